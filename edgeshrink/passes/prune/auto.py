"""`sparsity: auto`: the largest sparsity whose fine-tuned model stays within the run's accuracy budget.

A bounded bisection over the share of weights (or channels) kept, in log space since each halving of
what is kept costs about the same accuracy. Every trial starts from the last model that passed, so its
pruning and fine-tuning carry over (gradual pruning) instead of starting again from the input.
Candidates are judged on held-out *training* images (`ctx.validation`) against the run's input
model; the test set only ever judges the chosen model, in the pipeline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import onnx

from edgeshrink import inference
from edgeshrink.data import Split
from edgeshrink.errors import PassError
from edgeshrink.passes.base import PassContext
from edgeshrink.size import measure

HELD_OUT = 5000  # validation images carved from the end of `train` when the context brings none
# one trial: (model to start from, share of the input's weights or channels to keep) -> fine-tuned model
Trial = Callable[[onnx.ModelProto, float], onnx.ModelProto]


@dataclass(frozen=True)
class TrialResult:
    """One candidate of the search: its sparsity, validation accuracy, gzip'd bytes, and verdict."""

    sparsity: float
    accuracy: float
    gzip: int
    within: bool


def validation_split(ctx: PassContext) -> tuple[Split, Split]:
    """(images to train on, images to judge on): the context's validation split, or the last HELD_OUT."""
    if ctx.validation is not None:
        return ctx.train, ctx.validation
    if len(ctx.train) <= 2 * HELD_OUT:
        raise PassError(f"sparsity auto needs more than {2 * HELD_OUT:,} training images to hold some out; "
                        "give a fixed sparsity instead")
    cut = len(ctx.train) - HELD_OUT
    return ctx.train.take(cut), ctx.train.take(HELD_OUT, cut)


def accuracy(model: onnx.ModelProto, ctx: PassContext, images: Split) -> float:
    sess = inference.session(model, threads=1)
    return inference.accuracy(sess, ctx.signature, images.images, images.labels)


def search(model: onnx.ModelProto, trial: Trial, ctx: PassContext, validation: Split, max_sparsity: float,
           trials: int, budget_share: float) -> tuple[onnx.ModelProto, float, list[TrialResult]]:
    """The pruned model of the largest sparsity within budget, that sparsity (0: none), and every trial."""
    allowed = (ctx.allowed_drop if ctx.allowed_drop is not None else 0.5) * budget_share
    reference = accuracy(ctx.reference if ctx.reference is not None else model, ctx, validation)
    passed, failed = 1.0, 1.0 - max_sparsity  # shares kept: known good, and the bound not to go beyond
    best, results = model, []
    for _ in range(trials):
        share = math.sqrt(passed * failed)
        candidate = trial(best, share)
        acc = accuracy(candidate, ctx, validation)
        within = 100 * (reference - acc) <= allowed + 1e-9
        results.append(TrialResult(round(1 - share, 4), acc, measure(candidate.SerializeToString()).gzip, within))
        if within:
            passed, best = share, candidate
        else:
            failed = share
        if passed / failed < 1.05:  # the bracket is narrower than 5% of what is kept
            break
    ctx.notes.extend(describe(results, reference, allowed, len(validation)))
    return best, (1 - passed if best is not model else 0.0), results


def describe(results: list[TrialResult], reference: float, allowed: float, images: int) -> list[str]:
    """One note per trial and one for the choice, for the pipeline's report."""
    lines = [f"prune auto: trial {i}: sparsity {r.sparsity:.3f}, validation {100 * r.accuracy:.2f}% "
             f"({100 * (r.accuracy - reference):+.2f} pt), {r.gzip:,} B gzip: "
             f"{'within' if r.within else 'over'} budget" for i, r in enumerate(results, 1)]
    kept = [r for r in results if r.within]
    if kept:
        chosen = max(kept, key=lambda r: r.sparsity)
        lines.append(f"prune auto: chose sparsity {chosen.sparsity:.3f}, the largest of {len(results)} trials "
                     f"within {allowed:.2f} pt of the input's {100 * reference:.2f}% on {images:,} held-out "
                     "training images")
    else:
        lines.append(f"prune auto: no trial stayed within {allowed:.2f} pt on {images:,} held-out training "
                     "images; the model is left unpruned")
    return lines
