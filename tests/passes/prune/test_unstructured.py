"""Unstructured pruning: the smallest weights zeroed, per layer or globally, and kept at zero."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from edgeshrink.core.model import stored_signature
from edgeshrink.finetune.config import FineTune
from edgeshrink.passes.prune import PruneConfig, run
from tests.passes.prune.cases import accuracy, context, peer, predictions, values_of
from tests.peers import peer_names


def test_unstructured_zeroes_the_smallest_weights_of_each_hidden_layer(cnn, train_split, test_split):
    before = cnn.SerializeToString()
    cfg = PruneConfig(method="unstructured", sparsity=0.6, finetune=FineTune(epochs=0))
    pruned = run(cnn, cfg, context(cnn, train_split))
    onnx.checker.check_model(pruned)
    assert cnn.SerializeToString() == before  # the input model is never changed
    arrays, original = values_of(pruned), values_of(cnn)
    for name in ("w1", "w2", "fc1"):
        assert (arrays[name] == 0).mean() == pytest.approx(0.6, abs=1 / arrays[name].size)
        kept = arrays[name] != 0
        assert np.abs(original[name][kept]).min() >= np.abs(original[name][~kept]).max()
    np.testing.assert_array_equal(arrays["fc2"], original["fc2"])  # the output layer is never pruned
    assert stored_signature(pruned) == stored_signature(cnn)
    pixels = test_split.images[:500]
    signature = stored_signature(cnn)
    assert (predictions(pruned, signature, pixels) == predictions(cnn, signature, pixels)).mean() > 0.9


def test_global_scope_sets_one_threshold_for_all_layers(cnn, train_split):
    cfg = PruneConfig(method="unstructured", sparsity=0.7, scope="global", finetune=FineTune(epochs=0))
    arrays = values_of(run(cnn, cfg, context(cnn, train_split)))
    hidden = np.concatenate([arrays[name].ravel() for name in ("w1", "w2", "fc1")])
    assert (hidden == 0).mean() == pytest.approx(0.7, abs=1e-3)
    shares = [(arrays[name] == 0).mean() for name in ("w1", "w2", "fc1")]
    assert max(shares) - min(shares) > 0.05  # layers differ: small weights are not spread evenly




def test_fine_tuning_keeps_pruned_weights_at_zero(cnn, train_split, test_split):
    ctx = context(cnn, train_split, images=1024)
    masked = run(cnn, PruneConfig(method="unstructured", sparsity=0.8, finetune=FineTune(epochs=0)), ctx)
    tuned = run(cnn, PruneConfig(method="unstructured", sparsity=0.8, finetune=FineTune(images=1024)), ctx)
    for name in ("w1", "w2", "fc1"):
        zeros = values_of(masked)[name] == 0
        assert np.all(values_of(tuned)[name][zeros] == 0)
        assert not np.array_equal(values_of(tuned)[name], values_of(masked)[name])  # the rest trained
    assert ctx.track.bars[-1] == ("fine-tune", 16)
    assert accuracy(tuned, ctx.signature, test_split) > 0.85




@pytest.mark.parametrize("name", peer_names(["zoo_mnist8", "torch_dynamo_nobatch"]))
def test_unstructured_pruning_of_peer_models(name, train_split, test_split):
    model, signature = peer(name)
    pruned = run(model, PruneConfig(method="unstructured", sparsity=0.5, finetune=FineTune(epochs=0)),
                 context(model, train_split, signature=signature))
    onnx.checker.check_model(pruned)
    before, after = values_of(model), values_of(pruned)
    changed = [n for n in before if not np.array_equal(before[n], after[n])]
    assert changed and all((after[n] == 0).mean() == pytest.approx(0.5, abs=0.01) for n in changed)
    pixels = test_split.images[:300]
    assert (predictions(pruned, signature, pixels) == predictions(model, signature, pixels)).mean() > 0.9
