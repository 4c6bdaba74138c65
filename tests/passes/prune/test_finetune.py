"""Fine-tuning after pruning: accuracy recovers, a probability output trains on the scores before it, and
augmented fine-tuning keeps the pruned weights at zero."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from edgeshrink import inference
from edgeshrink.core.model import count_params, stored_signature
from edgeshrink.finetune.config import FineTune
from edgeshrink.finetune.train import score_tensor
from edgeshrink.passes.prune import PruneConfig, run
from tests.passes.prune.cases import accuracy, cnn_graph, context


def test_structured_with_fine_tuning_recovers_accuracy(cnn, train_split, test_split):
    ctx = context(cnn, train_split, images=2048)
    pruned = run(cnn, PruneConfig(sparsity=0.5, finetune=FineTune(images=2048)), ctx)
    total_before, _ = count_params(cnn)
    total_after, _ = count_params(pruned)
    assert total_after < 0.4 * total_before
    assert ctx.track.bars == [("fine-tune", 32)]
    assert accuracy(pruned, ctx.signature, test_split) > 0.85




def test_softmax_output_trains_on_the_scores_before_it(trained, train_split, test_split):
    model = cnn_graph(trained, softmax=True)
    signature = stored_signature(model)
    assert signature.output_kind == "probabilities" and score_tensor(model, signature) == "logits"
    ctx = context(model, train_split, images=1024)
    pruned = run(model, PruneConfig(sparsity=0.5, finetune=FineTune(images=1024, distill=True)), ctx)
    probs = inference.scores(inference.session(pruned), signature, test_split.images[:50])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert accuracy(pruned, signature, test_split) > 0.85


def test_augmented_fine_tuning_moves_the_digits_and_keeps_the_zeros(cnn, train_split):
    """`augment: true` trains on moved digits (other weights than without), and pruned weights stay zero."""
    from onnx import numpy_helper

    ctx = context(cnn, train_split, images=512)
    cfg = PruneConfig(method="unstructured", sparsity=0.6, finetune=FineTune(images=512))
    plain, moved = (run(cnn, replace(cfg, finetune=replace(cfg.finetune, augment=augment)), ctx)
                    for augment in (False, True))
    weights = [{i.name: numpy_helper.to_array(i) for i in m.graph.initializer} for m in (plain, moved)]
    assert not np.array_equal(weights[0]["fc1"], weights[1]["fc1"])
    assert np.array_equal(weights[0]["fc1"] == 0, weights[1]["fc1"] == 0)  # the same weights pruned, still zero
    assert (weights[1]["fc1"] == 0).mean() > 0.5
