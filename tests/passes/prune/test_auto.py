"""`sparsity: auto`: a bounded search that keeps the largest sparsity within the run's budget."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from onnx import numpy_helper

from edgeshrink.finetune.config import FineTune
from edgeshrink.params import build_config
from edgeshrink.passes import heldout
from edgeshrink.passes.prune import PruneConfig, auto, run
from tests.passes.prune.cases import context


def _auto_context(model, train_split, allowed_drop: float):
    ctx = context(model, train_split, images=1024)
    return replace(ctx, validation=train_split.take(1000, 50000), reference=model, allowed_drop=allowed_drop)


def test_config_takes_auto_or_a_number():
    assert build_config(PruneConfig, {"sparsity": "auto"}).sparsity == "auto"
    with pytest.raises(ValueError, match="sparsity must be a number or one of auto, not 'most'"):
        build_config(PruneConfig, {"sparsity": "most"})
    with pytest.raises(ValueError, match="rounds applies to a fixed sparsity"):
        build_config(PruneConfig, {"sparsity": "auto", "rounds": 2})
    with pytest.raises(ValueError, match="stride must be above 0 and below 1, not 1"):
        build_config(PruneConfig, {"sparsity": "auto", "stride": 1})


def test_auto_picks_the_largest_sparsity_within_budget(cnn, train_split):
    ctx = _auto_context(cnn, train_split, allowed_drop=1.0)
    cfg = PruneConfig(method="unstructured", sparsity="auto", scope="global", trials=4, finetune=FineTune(epochs=1.0))
    pruned = run(cnn, cfg, ctx)
    trials = [n for n in ctx.notes if n.startswith("prune auto: trial")]
    assert len(trials) <= 4 and any("chose sparsity" in n for n in ctx.notes)
    reference = heldout.accuracy(cnn, ctx, ctx.validation)
    found = heldout.accuracy(pruned, ctx, ctx.validation)
    assert 100 * (reference - found) <= 1.0  # within the budget it was given, on the held-out images
    assert _chosen(ctx.notes) >= 0.5, ctx.notes  # a budget of 1 pt lets this CNN lose at least half its weights
    zeros = sum(int((numpy_helper.to_array(i) == 0).sum()) for i in pruned.graph.initializer)
    assert zeros >= 0.4 * sum(int(np.prod(i.dims)) for i in pruned.graph.initializer)


def test_a_tighter_budget_never_prunes_more(cnn, train_split):
    cfg = PruneConfig(method="unstructured", sparsity="auto", scope="global", trials=4, finetune=FineTune(epochs=0))
    loose, tight = _auto_context(cnn, train_split, 2.0), _auto_context(cnn, train_split, 0.0)
    run(cnn, cfg, loose), run(cnn, cfg, tight)
    chosen = [_chosen(ctx.notes) for ctx in (loose, tight)]
    assert chosen[1] <= chosen[0] and chosen[0] > 0


def test_no_trial_within_budget_leaves_the_model_unpruned(cnn, train_split):
    ctx = _auto_context(cnn, train_split, allowed_drop=-1.0)  # nothing can gain a point back without training
    cfg = PruneConfig(method="structured", sparsity="auto", trials=2, finetune=FineTune(epochs=0))
    out = run(cnn, cfg, ctx)
    assert "left unpruned" in ctx.notes[-1]
    assert [i.dims for i in out.graph.initializer] == [i.dims for i in cnn.graph.initializer]


def test_the_next_trial_keeps_a_stride_of_what_is_kept_never_below_the_floor():
    assert auto.next_share(1.0, 0.5, 0.03) == 0.5
    assert auto.next_share(0.04, 0.5, 0.03) == 0.03  # max_sparsity is the last step
    assert auto.next_share(0.03, 0.5, 0.03) is None  # at the floor: nothing left to try
    assert auto.next_share(0.5, 0.98, 0.03) is None  # a step finer than FINEST is not worth a trial


def test_each_trial_prunes_the_last_passing_model_and_a_failure_halves_the_stride(cnn, train_split):
    from edgeshrink.passes.prune import unstructured

    ctx = _auto_context(cnn, train_split, allowed_drop=0.3)
    names = unstructured.prunable(cnn, ctx.signature.output_name)
    calls = []

    def trial(start, share):  # real magnitude pruning without fine-tuning: large steps lose accuracy
        out = unstructured.apply(start, unstructured.masks(start, names, 1 - share, "global"))
        calls.append((start, share, out))
        return out

    best, sparsity, results = auto.search(cnn, trial, ctx, ctx.validation, 0.97, 6, 1.0, stride=0.25)
    stride, kept, start = 0.25, 1.0, cnn
    for (given, share, out), result in zip(calls, results):
        assert given is start and share == pytest.approx(max(kept * stride, 0.03))
        if result.within:
            kept, start = share, out
        else:
            stride = stride ** 0.5
    assert len(calls) == len(results) and any(r.within for r in results) and not all(r.within for r in results)
    assert best is start and sparsity == pytest.approx(1 - kept)
    reference = heldout.accuracy(cnn, ctx, ctx.validation)
    assert 100 * (reference - heldout.accuracy(best, ctx, ctx.validation)) <= 0.3 + 1e-9


def _chosen(notes: list[str]) -> float:
    line = notes[-1]
    return float(line.split("chose sparsity ")[1].split(",")[0]) if "chose sparsity" in line else 0.0


def test_the_drop_error_comes_from_the_images_the_two_models_disagree_on():
    right = np.ones(100, dtype=bool)
    four_lost = right.copy()
    four_lost[:4] = False
    assert heldout.drop_error(right, right) == 0.0
    assert heldout.drop_error(right, four_lost) == pytest.approx(100 * np.std([1] * 4 + [0] * 96, ddof=1) / 10)


def test_a_trial_within_the_share_only_by_its_noise_is_refused(cnn, train_split):
    from edgeshrink.passes.prune import unstructured

    probe = _auto_context(cnn, train_split, allowed_drop=100.0)
    names = unstructured.prunable(cnn, probe.signature.output_name)

    def trial(start, share):  # magnitude pruning without fine-tuning: deterministic
        return unstructured.apply(start, unstructured.masks(start, names, 1 - share, "global"))

    first = auto.search(cnn, trial, probe, probe.validation, 0.97, 1, 1.0, stride=0.3)[2][0]
    drop = 100 * (heldout.accuracy(cnn, probe, probe.validation) - first.accuracy)
    assert first.error > 0, "pruning 70% without fine-tuning changes some answers"
    ctx = _auto_context(cnn, train_split, allowed_drop=drop + first.error / 2)  # the drop fits, the noise does not
    again = auto.search(cnn, trial, ctx, ctx.validation, 0.97, 1, 1.0, stride=0.3)[2][0]
    assert again.accuracy == first.accuracy and not again.within
    assert "plus one standard error" in ctx.notes[-1]
