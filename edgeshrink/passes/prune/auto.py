"""`sparsity: auto`: the largest sparsity whose fine-tuned model stays within the run's accuracy budget.

Gradual pruning with an adaptive stride: each trial keeps `stride` of what the last passing trial
kept, pruning and fine-tuning *that* model further, so the fine-tuning of every passing trial carries
over to the next and a sparse model is reached in small steps rather than one jump. A trial over
budget is dropped and the stride is halved in log space (the next trial starts again from the last
passing model, nearer to it), until the trials are spent, the stride is finer than 3% of what is
kept, or `max_sparsity` is reached. Candidates are judged on held-out *training* images
(`ctx.validation`) against the run's input model; the test set only ever judges the chosen model,
in the pipeline.

A trial is judged as `edgeshrink.passes.heldout` judges: its drop plus one standard error of it must stay
within the step's share of the budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import onnx

from edgeshrink.data import Split
from edgeshrink.passes.base import PassContext
from edgeshrink.passes.heldout import Judge
from edgeshrink.size import measure

FINEST = 0.97  # a stride that keeps more than this of what is kept is not worth a trial
# one trial: (model to start from, share of the input's weights or channels to keep) -> fine-tuned model
Trial = Callable[[onnx.ModelProto, float], onnx.ModelProto]


@dataclass(frozen=True)
class TrialResult:
    """One candidate of the search: its sparsity, validation accuracy, the standard error (points) of its drop
    against the reference, gzip'd bytes, and verdict."""

    sparsity: float
    accuracy: float
    error: float
    gzip: int
    within: bool


def next_share(kept: float, stride: float, floor: float) -> float | None:
    """The share the next trial keeps: `stride` of what is kept, never below `floor`; None when done."""
    share = max(kept * stride, floor)
    return None if share > kept * FINEST else share


def search(model: onnx.ModelProto, trial: Trial, ctx: PassContext, validation: Split, max_sparsity: float,
           trials: int, budget_share: float, stride: float = 0.5) -> tuple[onnx.ModelProto, float, list[TrialResult]]:
    """The pruned model of the largest sparsity within budget, that sparsity (0: none), and every trial."""
    judge = Judge(model, ctx, validation, budget_share)
    kept, floor = 1.0, 1.0 - max_sparsity
    best, results = model, []
    for _ in range(trials):
        share = next_share(kept, stride, floor)
        if share is None:
            break
        candidate = trial(best, share)
        verdict = judge(candidate)
        results.append(TrialResult(round(1 - share, 4), verdict.accuracy, verdict.error,
                                   measure(candidate.SerializeToString()).gzip, verdict.within))
        if verdict.within:
            kept, best = share, candidate
        else:
            stride = math.sqrt(stride)  # half the step in log space, from the last model that passed
    ctx.notes.extend(describe(results, judge.reference, judge.allowed, len(validation)))
    return best, (1 - kept if best is not model else 0.0), results


def describe(results: list[TrialResult], reference: float, allowed: float, images: int) -> list[str]:
    """One note per trial and one for the choice, for the pipeline's report."""
    lines = [f"prune auto: trial {i}: sparsity {r.sparsity:.3f}, validation {100 * r.accuracy:.2f}% "
             f"({100 * (r.accuracy - reference):+.2f} ± {r.error:.2f} pt), {r.gzip:,} B gzip: "
             f"{'within' if r.within else 'over'} budget" for i, r in enumerate(results, 1)]
    kept = [r for r in results if r.within]
    if kept:
        chosen = max(kept, key=lambda r: r.sparsity)
        lines.append(f"prune auto: chose sparsity {chosen.sparsity:.3f}, the largest of {len(results)} trials "
                     f"whose drop plus one standard error stays within {allowed:.2f} pt of the input's "
                     f"{100 * reference:.2f}% on {images:,} held-out training images")
    else:
        lines.append(f"prune auto: no trial's drop plus one standard error stayed within {allowed:.2f} pt on "
                     f"{images:,} held-out training images; the model is left unpruned")
    return lines
