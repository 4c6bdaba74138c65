"""`bits: auto`: per weight layer, the fewest bits (shared values) whose fine-tuned model stays within the run's
accuracy budget.

Every layer starts at `max_bits` (k-means, shared values fine-tuned, as a fixed `bits` does). Then one layer at
a time, the one with the most non-zero weights first (its codes are most of the file), goes one bit lower per
trial: that layer alone is clustered again, from the shared values of the last passing model (the others keep
theirs exactly), and the whole model's shared values are fine-tuned again, so training carries over from trial
to trial as in `sparsity: auto`. A trial over budget is dropped and its layer stays at its last passing bits;
the next layer follows, until every layer has failed or reached `min_bits`, or the trials are spent. Trials
are judged as `edgeshrink.passes.heldout` judges (held-out training images, drop plus one standard error
within the step's share of the budget).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Callable

import numpy as np
import onnx
from onnx import numpy_helper

from edgeshrink.passes.base import PassContext
from edgeshrink.passes.heldout import Judge, validation_split
from edgeshrink.passes.int8grid import weight_axes
from edgeshrink.size import measure

if TYPE_CHECKING:
    from edgeshrink.passes.cluster.sharing import ClusterConfig

# one trial: (model to start from, bits of the layers to cluster again; None: keep its shared values) -> model
Trial = Callable[[onnx.ModelProto, "dict[str, int | None]"], onnx.ModelProto]


@dataclass(frozen=True)
class TrialResult:
    """One candidate of the search: the bits of every layer, the layer it lowered (None: the start), its
    validation accuracy, the standard error (points) of its drop, gzip'd bytes, and verdict."""

    bits: dict[str, int]
    lowered: str | None
    accuracy: float
    error: float
    gzip: int
    within: bool


def largest_first(model: onnx.ModelProto) -> list[str]:
    """The weight layers, the one with the most non-zero weights first."""
    inits = {init.name: init for init in model.graph.initializer}
    count = {name: int(np.count_nonzero(numpy_helper.to_array(inits[name]))) for name in weight_axes(model)}
    return sorted(count, key=lambda name: -count[name])


def search(model: onnx.ModelProto, trial: Trial, judge: Judge, layers: list[str], max_bits: int, min_bits: int,
           trials: int) -> tuple[onnx.ModelProto, dict[str, int], list[TrialResult]]:
    """The model of the fewest bits per layer within budget, those bits, and every trial (the start first)."""
    bits = dict.fromkeys(layers, max_bits)
    best = trial(model, dict(bits))
    results = [_result(best, bits, None, judge)]
    if not results[0].within:
        return best, bits, results  # nothing lower can do better; the pipeline's test set judges the start
    for layer in layers:
        while bits[layer] > min_bits and len(results) <= trials:
            lower = {**bits, layer: bits[layer] - 1}
            candidate = trial(best, {name: lower[layer] if name == layer else None for name in layers})
            results.append(_result(candidate, lower, layer, judge))
            if not results[-1].within:
                break
            bits, best = lower, candidate
    return best, bits, results


def _result(candidate: onnx.ModelProto, bits: dict[str, int], lowered: str | None, judge: Judge) -> TrialResult:
    verdict = judge(candidate)
    return TrialResult(dict(bits), lowered, verdict.accuracy, verdict.error,
                       measure(candidate.SerializeToString()).gzip, verdict.within)


def run(model: onnx.ModelProto, cfg: ClusterConfig, ctx: PassContext,
        teacher: onnx.ModelProto | None) -> onnx.ModelProto:
    """The cluster pass with `bits: auto`; fine-tuning never sees the images it is judged on."""
    from edgeshrink.passes.cluster.sharing import shared

    fit, validation = validation_split(ctx, "bits auto")
    train_ctx = replace(ctx, train=fit)

    def trial(start: onnx.ModelProto, bits: dict[str, int | None]) -> onnx.ModelProto:
        changed = ", ".join(f"{name} {b}" for name, b in bits.items() if b is not None)
        return shared(start, bits, cfg, train_ctx, teacher, f"fine-tune shared values ({changed} bits)")

    judge = Judge(model, ctx, validation, cfg.budget_share)
    best, _, results = search(model, trial, judge, largest_first(model), cfg.max_bits, cfg.min_bits, cfg.trials)
    ctx.notes.extend(describe(results, judge))
    return best


def describe(results: list[TrialResult], judge: Judge) -> list[str]:
    """One note per trial and one for the choice, for the pipeline's report."""
    lines = []
    for i, r in enumerate(results):
        what = f"{r.lowered} to {r.bits[r.lowered]} bits" if r.lowered else "every layer at its start"
        lines.append(f"bits auto: trial {i}: {what}, validation {100 * r.accuracy:.2f}% "
                     f"({100 * (r.accuracy - judge.reference):+.2f} ± {r.error:.2f} pt), {r.gzip:,} B gzip: "
                     f"{'within' if r.within else 'over'} budget")
    chosen = next((r for r in reversed(results) if r.within), results[0])
    layers = ", ".join(f"{name} {b}" for name, b in chosen.bits.items())
    within = (f"within {judge.allowed:.2f} pt of the input's {100 * judge.reference:.2f}% on "
              f"{len(judge.validation):,} held-out training images")
    if chosen.within:
        lines.append(f"bits auto: chose {layers} bits, the fewest whose drop plus one standard error stays {within}")
    else:
        lines.append(f"bits auto: kept {layers} bits: even the start's drop plus one standard error is not {within}; "
                     "the test set judges it")
    return lines
