"""How a pass that searches within the run's budget (prune's `sparsity: auto`, cluster's `bits: auto`) judges a
candidate: on held-out *training* images, against the run's input model; the test set only ever judges the
chosen model, in the pipeline.

A drop measured on a few thousand images is an estimate: two models that are equally good differ on the
held-out slice by about a tenth of a point, and the test set then sees another tenth. A candidate therefore
passes only when its drop plus one standard error of that drop (paired: from the images the two models classify
differently) stays within the step's share of the budget. The noise is taken out of the share instead of spent
from it, so a step that fits on the held-out slice by luck does not leave the next step, or the test set, over
budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import onnx

from edgeshrink import inference
from edgeshrink.data import Split
from edgeshrink.errors import PassError
from edgeshrink.passes.base import PassContext

HELD_OUT = 5000  # validation images carved from the end of `train` when the context brings none
NOISE_Z = 1.0  # standard errors of the measured drop a candidate must leave inside the step's share of the budget
DEFAULT_DROP = 0.5  # points, when the context brings no budget (a pass run outside the pipeline)


def validation_split(ctx: PassContext, setting: str) -> tuple[Split, Split]:
    """(images to train on, images to judge on): the context's validation split, or the last HELD_OUT.
    `setting` names the search in the error, such as 'sparsity auto'."""
    if ctx.validation is not None:
        return ctx.train, ctx.validation
    if len(ctx.train) <= 2 * HELD_OUT:
        raise PassError(f"{setting} needs more than {2 * HELD_OUT:,} training images to hold some out; "
                        f"give a fixed {setting.split()[0]} instead")
    cut = len(ctx.train) - HELD_OUT
    return ctx.train.take(cut), ctx.train.take(HELD_OUT, cut)


def correct(model: onnx.ModelProto, ctx: PassContext, images: Split) -> np.ndarray:
    """Per image, whether `model` classifies it right."""
    sess = inference.session(model, threads=1, signature=ctx.signature)
    return inference.predict(sess, ctx.signature, images.images) == images.labels


def accuracy(model: onnx.ModelProto, ctx: PassContext, images: Split) -> float:
    return float(correct(model, ctx, images).mean())


def drop_error(reference: np.ndarray, candidate: np.ndarray) -> float:
    """The standard error, in points, of the accuracy drop between two models judged on the same images:
    only the images they disagree on carry noise (a paired difference)."""
    differences = reference.astype(np.float64) - candidate.astype(np.float64)
    return 100 * float(differences.std(ddof=1)) / math.sqrt(len(differences)) if len(differences) > 1 else 0.0


@dataclass(frozen=True)
class Verdict:
    """A candidate on the held-out images: its accuracy, the standard error (points) of its drop, and whether
    the drop plus NOISE_Z of those errors stays within the step's share of the budget."""

    accuracy: float
    error: float
    within: bool


class Judge:
    """The run's input model's answers on the held-out images, and the points a candidate may lose against it."""

    def __init__(self, model: onnx.ModelProto, ctx: PassContext, validation: Split, budget_share: float):
        self.ctx, self.validation = ctx, validation
        self.allowed = (ctx.allowed_drop if ctx.allowed_drop is not None else DEFAULT_DROP) * budget_share
        self.right = correct(ctx.reference if ctx.reference is not None else model, ctx, validation)
        self.reference = float(self.right.mean())

    def __call__(self, candidate: onnx.ModelProto) -> Verdict:
        answers = correct(candidate, self.ctx, self.validation)
        acc, error = float(answers.mean()), drop_error(self.right, answers)
        return Verdict(acc, error, 100 * (self.reference - acc) + NOISE_Z * error <= self.allowed + 1e-9)
