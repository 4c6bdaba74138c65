"""The Python API behind the CLI: open, evaluate and compare MNIST ONNX models."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import onnx

from edgeshrink import data as mnist
from edgeshrink import detect, model
from edgeshrink.errors import RecipeError
from edgeshrink.evaluate import Evaluation, evaluate
from edgeshrink.progress import Track, no_progress
from edgeshrink.signature import Preprocess

PathLike = str | os.PathLike


def open_model(path: PathLike, preprocess: str | None = None,
               data_dir: PathLike | None = None) -> tuple[onnx.ModelProto, detect.Detection]:
    """Load a model and work out how to feed it (explicit preprocess, metadata, or a trial on training images)."""
    proto = model.load(path)
    explicit = Preprocess.parse(preprocess) if preprocess else None
    return proto, detect.detect(proto, explicit, lambda: mnist.load("train", data_dir))


def evaluate_file(path: PathLike, preprocess: str | None = None, data_dir: PathLike | None = None,
                  latency: bool = True, track: Track = no_progress) -> Evaluation:
    """Evaluate one ONNX file on the 10,000 MNIST test images."""
    proto, found = open_model(path, preprocess, data_dir)
    result = evaluate(proto, found.signature, Path(path).name, test=mnist.load("test", data_dir),
                      latency=latency, track=track, preprocess_source=found.source)
    if found.trial:
        tried = ", ".join(f"{k} {100 * v:.1f}%" for k, v in found.trial.items())
        result.notes.append(
            f"preprocessing detected on {detect.DETECTION_IMAGES:,} training images: "
            f"{found.signature.preprocess.name} (tried {tried})"
        )
    return result


def compare(paths: list[PathLike], preprocess: str | None = None, data_dir: PathLike | None = None,
            latency: bool = True, track: Track = no_progress) -> list[Evaluation]:
    """Evaluate several models on the same measurements, each fed what it expects.

    An `optimize` output folder stands for its final model as its report recorded it; given first,
    for its input model and then its final model, so that ratios are against the input.
    """
    results = []
    for index, path in enumerate(paths):
        if Path(path).is_dir():
            results += recorded(path, with_input=index == 0)
        else:
            results.append(evaluate_file(path, preprocess, data_dir, latency, track))
    return results


def recorded(folder: PathLike, with_input: bool = False) -> list[Evaluation]:
    """The final model's evaluation (after the input's, if `with_input`) from an `optimize` output folder."""
    from edgeshrink.pipeline import FINAL_FILE, INPUT_FILE, PipelineReport

    run, name = PipelineReport.read(folder), Path(folder).name
    final = replace(run.final_evaluation, name=f"{name}/{FINAL_FILE}")
    return [replace(run.baseline, name=f"{name}/{INPUT_FILE}"), final] if with_input else [final]


def optimize(path: PathLike, recipe: str = "default", overrides: list[str] = (), *,
             output: PathLike | None = None, max_drop: float = 0.5, preprocess: str | None = None,
             data_dir: PathLike | None = None, track: Track = no_progress):
    """Run a recipe on a model; writes every step, model.opt.onnx and report.{json,md,csv} into `output`.

    Returns the PipelineReport; `report.completed` is False when a step broke the accuracy budget.
    """
    from edgeshrink import pipeline, recipe as recipes

    plan = recipes.load(recipe, list(overrides))  # validated before any work starts
    if max_drop < 0:
        raise RecipeError(f"--max-drop must be 0 or more percentage points, not {max_drop}")
    proto, found = open_model(path, preprocess, data_dir)
    path = Path(path)
    folder = Path(output) if output else path.with_name(f"{path.stem}.{plan.name}")
    result = pipeline.run(proto, found.signature, plan, folder, name=path.name, max_drop=max_drop,
                          data_dir=data_dir, track=track)
    result.write(folder)
    return result
