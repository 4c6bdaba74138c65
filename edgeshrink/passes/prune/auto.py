"""`sparsity: auto`: the largest sparsity whose fine-tuned model stays within the run's accuracy budget.

Gradual pruning with an adaptive stride: each trial keeps `stride` of what the last passing trial
kept, pruning and fine-tuning *that* model further, so the fine-tuning of every passing trial carries
over to the next and a sparse model is reached in small steps rather than one jump. A trial over
budget is dropped and the stride is halved in log space (the next trial starts again from the last
passing model, nearer to it), until the trials are spent, the stride is finer than 3% of what is
kept, or `max_sparsity` is reached. Candidates are judged on held-out *training* images
(`ctx.validation`) against the run's input model; the test set only ever judges the chosen model,
in the pipeline.

A drop measured on a few thousand images is an estimate: two models that are equally good differ on
the held-out slice by about a tenth of a point, and the test set then sees another tenth. A trial
therefore passes only when its drop plus one standard error of that drop (paired: from the images the
two models classify differently) stays within the step's share of the budget. The noise is taken out
of the share instead of spent from it, so a step that fits on the held-out slice by luck does not
leave the next step, or the test set, over budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import onnx

from edgeshrink import inference
from edgeshrink.data import Split
from edgeshrink.errors import PassError
from edgeshrink.passes.base import PassContext
from edgeshrink.size import measure

HELD_OUT = 5000  # validation images carved from the end of `train` when the context brings none
FINEST = 0.97  # a stride that keeps more than this of what is kept is not worth a trial
NOISE_Z = 1.0  # standard errors of the measured drop a trial must leave inside the step's share of the budget
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
    return float((correct(model, ctx, images)).mean())


def correct(model: onnx.ModelProto, ctx: PassContext, images: Split) -> np.ndarray:
    """Per image, whether `model` classifies it right."""
    sess = inference.session(model, threads=1, signature=ctx.signature)
    return inference.predict(sess, ctx.signature, images.images) == images.labels


def drop_error(reference: np.ndarray, candidate: np.ndarray) -> float:
    """The standard error, in points, of the accuracy drop between two models judged on the same images:
    only the images they disagree on carry noise (a paired difference)."""
    differences = reference.astype(np.float64) - candidate.astype(np.float64)
    return 100 * float(differences.std(ddof=1)) / math.sqrt(len(differences)) if len(differences) > 1 else 0.0


def next_share(kept: float, stride: float, floor: float) -> float | None:
    """The share the next trial keeps: `stride` of what is kept, never below `floor`; None when done."""
    share = max(kept * stride, floor)
    return None if share > kept * FINEST else share


def search(model: onnx.ModelProto, trial: Trial, ctx: PassContext, validation: Split, max_sparsity: float,
           trials: int, budget_share: float, stride: float = 0.5) -> tuple[onnx.ModelProto, float, list[TrialResult]]:
    """The pruned model of the largest sparsity within budget, that sparsity (0: none), and every trial."""
    allowed = (ctx.allowed_drop if ctx.allowed_drop is not None else 0.5) * budget_share
    right = correct(ctx.reference if ctx.reference is not None else model, ctx, validation)
    reference = float(right.mean())
    kept, floor = 1.0, 1.0 - max_sparsity
    best, results = model, []
    for _ in range(trials):
        share = next_share(kept, stride, floor)
        if share is None:
            break
        candidate = trial(best, share)
        answers = correct(candidate, ctx, validation)
        acc, error = float(answers.mean()), drop_error(right, answers)
        within = 100 * (reference - acc) + NOISE_Z * error <= allowed + 1e-9
        results.append(TrialResult(round(1 - share, 4), acc, error, measure(candidate.SerializeToString()).gzip,
                                   within))
        if within:
            kept, best = share, candidate
        else:
            stride = math.sqrt(stride)  # half the step in log space, from the last model that passed
    ctx.notes.extend(describe(results, reference, allowed, len(validation)))
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
