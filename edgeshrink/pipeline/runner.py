"""Run a recipe on a model: one step after another, each checked and measured, within an accuracy budget."""

from __future__ import annotations

import time
from pathlib import Path

import onnx

from edgeshrink import data as mnist
from edgeshrink import engine, judge, packing
from edgeshrink.budget import Budget
from edgeshrink.core import model as model_io
from edgeshrink.core.signature import Signature
from edgeshrink.errors import ModelError, PassError, RecipeError
from edgeshrink.evaluate import Evaluation, evaluate
from edgeshrink.passes.base import PassContext
from edgeshrink.pipeline.report import FINAL_FILE, INPUT_FILE, PipelineReport, StepResult
from edgeshrink.progress import Track, no_progress
from edgeshrink.recipe import Recipe

VALIDATION_IMAGES = 5000  # the last training images: held out of fine-tuning, for passes' own checks


def run(proto: onnx.ModelProto, signature: Signature, recipe: Recipe, output: Path, *,
        name: str = "model", max_drop: float = 0.5, min_accuracy: float | None = None, data_dir=None,
        track: Track = no_progress, seed: int = 0, preprocess_source: str = "metadata") -> PipelineReport:
    """Apply `recipe` to `proto`, writing NN-pass.onnx per step and model.opt.onnx into `output`.

    A step is over budget when it loses more than `max_drop` points against the input, or measures
    below `min_accuracy` percent, on the test images.
    """
    budget = Budget(max_drop, min_accuracy)
    test = mnist.load("test", data_dir)
    train = mnist.load("train", data_dir)
    held_out = len(train) - VALIDATION_IMAGES
    fit, validation = train.take(held_out), train.take(VALIDATION_IMAGES, held_out)
    current = reference = model_io.with_signature(proto, signature)
    model_io.save(current, output / INPUT_FILE)  # the baseline, with its signature, for bundles and comparisons
    baseline = previous = evaluate(current, signature, "input", test=test, track=track,
                                   preprocess_source=preprocess_source)
    if budget.allowed_drop(baseline.accuracy) < 0:
        raise RecipeError(f"{name} measures {100 * baseline.accuracy:.2f}% on the test images, already below "
                          f"--min-accuracy {min_accuracy:g}; lower the floor or start from a better model")
    report = PipelineReport(name, recipe.name, max_drop, baseline, folder=str(output), min_accuracy=min_accuracy,
                            machine=engine.current())
    for step in recipe.steps:
        ctx = PassContext(signature, fit, track, seed, validation=validation, reference=reference,
                          allowed_drop=budget.allowed_drop(baseline.accuracy))
        start = time.perf_counter()
        candidate, unsafe = apply_safely(step, current, ctx, name)
        seconds = time.perf_counter() - start
        if unsafe:
            report.steps.append(StepResult(step.position, step.name, step.params(), previous, seconds, "",
                                           "skipped", [*ctx.notes, f"skipped: {unsafe}"]))
            continue
        filename = f"{step.position:02d}-{step.name}.onnx"
        model_io.save(candidate, output / filename)
        try:
            result = evaluate(candidate, signature, filename, test=test, track=track)
        except ModelError as exc:
            raise PassError(f"step {step.position} ({step.name}) made a model that does not run: {exc}") from exc
        within = budget.within(baseline.accuracy, result.accuracy)
        status, notes = _verdict(step, within, previous, result, candidate is current, recipe.latency)
        report.steps.append(StepResult(step.position, step.name, step.params(), result, seconds, filename,
                                       status, [*ctx.notes, *notes]))
        if status == "over budget":
            report.stopped_at = step.position
            break
        if status != "skipped":
            current, previous = candidate, result
    report.final = FINAL_FILE
    model_io.save(current, output / report.final)
    return report


def _verdict(step, within: bool, previous: Evaluation, result: Evaluation, unchanged: bool,
             latency: str) -> tuple[str, list[str]]:
    """The step's status and what the report should say about it."""
    if not within:
        return "over budget", []
    if unchanged:
        return "unchanged", []
    reasons = judge.worse(previous, result, latency)
    if not reasons:
        return "ok", []
    worse = f"worse than its input: {'; '.join(reasons.values())}"
    if step.skip_if_worse is True or step.skip_if_worse in reasons:
        return "skipped", [f"skipped (skip_if_worse), {worse}; the next step starts from its input"]
    return "worse", [f"{worse}; 'skip_if_worse: true' on the step would skip it"]


def apply_safely(step, current: onnx.ModelProto, ctx: PassContext, name: str) -> tuple[onnx.ModelProto, str]:
    """The step's model, or the input and a reason when the step is not safe on int8 weights."""
    if not step.spec.last and packing.is_packed(current):  # a packed input: passes read plain weights
        current = packing.unpacked(current)
        ctx.notes.append(f"{step.name} reads plain weights: the packed layers were unpacked first")
    if step.spec.float_only and not step.spec.tried_on_int8 and model_io.is_quantized(current):
        return current, f"{step.name} needs float weights and the model is already int8"
    candidate = apply_step(step, current, ctx, name)
    unfolded = judge.int8_unfolded(current, candidate)
    return (current, f"{step.name}: {unfolded}") if unfolded else (candidate, "")


def apply_step(step, current: onnx.ModelProto, ctx: PassContext, name: str) -> onnx.ModelProto:
    """Run one pass and check its output: onnx.checker, then the signature re-attached (search uses it too)."""
    out = step.spec.run(current, step.config, ctx)
    if out is current or out == current:  # the pass had nothing to do (e.g. quantize on an int8 model)
        return current
    try:
        onnx.checker.check_model(out)
    except onnx.checker.ValidationError as exc:
        raise PassError(
            f"step {step.position} ({step.name}) produced an invalid model from {name}: "
            f"{str(exc).strip().splitlines()[0]}"
        ) from exc
    return model_io.with_signature(out, ctx.signature)
