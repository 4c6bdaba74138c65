"""Fine-tuning after pruning: accuracy recovers, and a probability output trains on the scores before it."""

from __future__ import annotations

import numpy as np

from edgeshrink import inference
from edgeshrink.model import count_params, stored_signature
from edgeshrink.passes.prune import PruneConfig, run
from edgeshrink.passes.prune.finetune import score_tensor
from tests.passes.prune.cases import accuracy, cnn_graph, context


def test_structured_with_fine_tuning_recovers_accuracy(cnn, train_split, test_split):
    ctx = context(cnn, train_split, images=2048)
    pruned = run(cnn, PruneConfig(sparsity=0.5, finetune_images=2048), ctx)
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
    pruned = run(model, PruneConfig(sparsity=0.5, finetune_images=1024, distill=True), ctx)
    probs = inference.scores(inference.session(pruned), signature, test_split.images[:50])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert accuracy(pruned, signature, test_split) > 0.85
