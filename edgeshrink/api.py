"""The Python API behind the CLI: open, evaluate and compare MNIST ONNX models."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import onnx

from edgeshrink import data as mnist
from edgeshrink import detect
from edgeshrink.budget import Budget
from edgeshrink.core import model as model_io
from edgeshrink.core.signature import Preprocess
from edgeshrink.evaluate import Evaluation, evaluate
from edgeshrink.progress import Track, no_progress

PathLike = str | os.PathLike


@dataclass(frozen=True)
class Opened:
    """A model ready to measure: the (repaired) graph, how to feed it, and what was repaired."""

    model: onnx.ModelProto
    detection: detect.Detection
    repairs: list[str]

    def notes(self) -> list[str]:
        """Sentences for the user: each repair, and how the preprocessing was chosen when it was detected."""
        notes = [f"repaired: {r}" for r in self.repairs]
        return notes + ([self.detection.summary()] if self.detection.trial else [])


def open_model(path: PathLike, preprocess: str | None = None, data_dir: PathLike | None = None) -> Opened:
    """Load a model and work out how to feed it (explicit preprocess, metadata, or a trial on training images)."""
    explicit = Preprocess.parse(preprocess) if preprocess else None  # a bad value fails before any loading
    loaded = model_io.read(path)
    found = detect.detect(loaded.model, explicit, lambda: mnist.load("train", data_dir))
    return Opened(loaded.model, found, loaded.repairs)


def evaluate_file(path: PathLike, preprocess: str | None = None, data_dir: PathLike | None = None,
                  latency: bool = True, track: Track = no_progress) -> Evaluation:
    """Evaluate one ONNX file on the 10,000 MNIST test images."""
    opened = open_model(path, preprocess, data_dir)
    found = opened.detection
    result = evaluate(opened.model, found.signature, Path(path).name, test=mnist.load("test", data_dir),
                      latency=latency, track=track, preprocess_source=found.source)
    result.notes.extend(opened.notes())
    return result


def compare(paths: list[PathLike], preprocess: str | None = None, data_dir: PathLike | None = None,
            latency: bool = True, track: Track = no_progress) -> list[Evaluation]:
    """Evaluate several models on the same measurements, each fed what it expects; each is named by the
    shortest end of its path that tells it from the others (run1/model.opt.onnx, run2/model.opt.onnx).

    An `optimize` output folder stands for its final model as its report recorded it; given first,
    for its input model and then its final model, so that ratios are against the input.
    """
    results, sources, depths = [], [], []
    for index, path in enumerate(paths):
        if Path(path).is_dir():
            found = recorded(path, with_input=index == 0)
            results += found
            sources += [Path(path) / ev.name.rsplit("/", 1)[-1] for ev in found]
            depths += [2] * len(found)  # a run's files are named with their folder: fast/model.opt.onnx
        else:
            results.append(evaluate_file(path, preprocess, data_dir, latency, track))
            sources.append(Path(path))
            depths.append(1)
    return [replace(r, name=n) for r, n in zip(results, distinct_names(sources, depths))]


def recorded(folder: PathLike, with_input: bool = False) -> list[Evaluation]:
    """The final model's evaluation (after the input's, if `with_input`) from an `optimize` output folder."""
    from edgeshrink.pipeline import FINAL_FILE, INPUT_FILE, PipelineReport

    run, name = PipelineReport.read(folder), Path(folder).name
    final = replace(run.final_evaluation, name=f"{name}/{FINAL_FILE}")
    return [replace(run.baseline, name=f"{name}/{INPUT_FILE}"), final] if with_input else [final]


def distinct_names(paths: list[PathLike], min_depths: list[int] | None = None) -> list[str]:
    """The shortest trailing part of each path (at least `min_depths` parts) that no other path shares;
    the same file twice gets '#2'."""
    parts = [Path(os.path.abspath(p)).parts for p in paths]
    names = []
    for mine, least in zip(parts, min_depths or [1] * len(parts)):
        others = [p for p in parts if p != mine]
        depth = min(least, len(mine))
        while depth < len(mine) and any(p[-depth:] == mine[-depth:] for p in others):
            depth += 1
        names.append("/".join(mine[-depth:]).lstrip("/") or str(mine))
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            names[i] = f"{name} #{seen[name]}"
    return names


def optimize(path: PathLike, recipe: str = "default", overrides: list[str] = (), *,
             output: PathLike | None = None, max_drop: float = 0.5, min_accuracy: float | None = None,
             preprocess: str | None = None,
             data_dir: PathLike | None = None, track: Track = no_progress, force: bool = False):
    """Run a recipe on a model; writes every step, model.opt.onnx and report.{json,md,csv} into `output`.

    The folder appears only once the run is complete and replaces an earlier run there whole; a folder
    holding files edgeshrink did not write is refused unless `force` (which keeps those files).
    Returns the PipelineReport; `report.completed` is False when a step broke the accuracy budget.
    """
    from edgeshrink import outputs, pipeline
    from edgeshrink import recipe as recipes

    plan = recipes.load(recipe, list(overrides))  # validated before any work starts
    Budget(max_drop, min_accuracy)  # checked before any work starts too
    path = Path(path)
    folder = Path(output) if output else path.with_name(f"{path.stem}.{plan.name}")
    outputs.check_target(folder, "output", force, inputs=[path])  # before the minutes of work, not after
    opened = open_model(path, preprocess, data_dir)
    with outputs.staged(folder, "output", force, inputs=[path]) as tmp:
        result = pipeline.run(opened.model, opened.detection.signature, plan, tmp, name=path.name, max_drop=max_drop,
                              min_accuracy=min_accuracy, data_dir=data_dir, track=track,
                              preprocess_source=opened.detection.source)
        result.folder = str(folder)
        result.baseline.notes.extend(opened.notes())
        result.write(tmp)
    return result
