"""One trial: build its recipe, run the passes, measure on the validation slice and at the edge, keep it all.

The test set is never touched here: passes see the first `train_images` training images, accuracy is
measured on the training images after them.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass, field, fields
from pathlib import Path

import onnx

from edgeshrink import data as mnist
from edgeshrink import inference
from edgeshrink.atomic import write_text
from edgeshrink.core import model as model_io
from edgeshrink.core.model import count_params
from edgeshrink.core.signature import Signature
from edgeshrink.data import Split
from edgeshrink.passes.base import PassContext
from edgeshrink.pipeline import apply_safely
from edgeshrink.search.edge import EdgeMeasurement, measure_edge
from edgeshrink.search.study import space as spaces
from edgeshrink.search.study.objectives import OBJECTIVES

MODEL_FILE = "model.onnx"
RECIPE_FILE = "recipe.yaml"
RECORD_FILE = "trial.json"
FAILURE_FILE = "failure.txt"
PARTIAL = ".partial"  # a trial is written in .NNNN.PID.partial and renamed NNNN once it is complete or failed


@dataclass(frozen=True)
class Base:
    """A model a trial starts from: the input model, or an architecture edgeshrink trained."""

    arch: str
    path: Path
    proto: onnx.ModelProto
    signature: Signature


@dataclass
class Workspace:
    """What every trial of one worker shares: the starting models, the data splits, the output folder."""

    bases: dict[str, Base]
    fit: Split  # what passes may train and calibrate on
    val: Split  # the validation slice the search scores accuracy on
    trials_dir: Path


@dataclass(frozen=True)
class TrialRecord:
    """What a trial made and measured, as written to trials/NNNN/trial.json."""

    number: int
    arch: str
    base_model: str
    steps: list[dict]
    val_accuracy: float
    val_images: int
    params_total: int
    params_nonzero: int
    edge: EdgeMeasurement
    seconds: float
    folder: str
    notes: list[str] = field(default_factory=list)

    def objectives(self) -> tuple[float, ...]:
        """The study's values for this trial, in the order of `OBJECTIVES`."""
        return tuple(o.read(self) for o in OBJECTIVES)

    def to_dict(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        return {**out, "edge": self.edge.to_dict()}

    @classmethod
    def from_dict(cls, data: dict) -> "TrialRecord":
        """The record `to_dict` wrote (trial.json, the study's user attribute); unknown entries are ignored."""
        values = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        return cls(**{**values, "edge": EdgeMeasurement.from_dict(data["edge"])})


def workspace(bases: dict[str, Base], train_images: int, trials_dir: Path, data_dir=None,
              val_images: int | None = None) -> Workspace:
    train = mnist.load("train", data_dir)
    val = train.take(len(train) - train_images, start=train_images)
    if val_images:
        val = val.take(val_images)
    return Workspace(bases, train.take(train_images), val, trials_dir)


def trial_folder(ws: Workspace, number: int) -> Path:
    return ws.trials_dir / f"{number:04d}"


def _partial(ws: Workspace, number: int) -> Path:
    return ws.trials_dir / f".{number:04d}.{os.getpid()}{PARTIAL}"


def run_trial(ws: Workspace, number: int, arch: str, steps: list[dict]) -> TrialRecord:
    """Run and measure one trial; its recipe is written first, so a failed trial keeps what it tried."""
    work = _partial(ws, number)
    work.mkdir(parents=True, exist_ok=True)
    base = ws.bases[arch]
    name = f"trial-{number:04d}"
    write_text(work / RECIPE_FILE, spaces.to_yaml(name, f"edgeshrink search trial {number} on {base.path.name}", steps))
    plan = spaces.build(name, steps)
    start = time.perf_counter()
    ctx = PassContext(base.signature, ws.fit, seed=spaces.SEED)
    current = model_io.with_signature(base.proto, base.signature)
    for step in plan.steps:
        current, skipped = apply_safely(step, current, ctx, base.path.name)
        if skipped:  # as optimize does on an int8 model: the step's input goes on
            ctx.notes.append(f"step {step.position} ({step.name}) skipped: {skipped}")
    model_io.save(current, work / MODEL_FILE)
    session = inference.session(current, threads=1, signature=base.signature)
    accuracy = inference.accuracy(session, base.signature, ws.val.images, ws.val.labels)
    edge = measure_edge(current, base.signature, ws.val.images)
    total, nonzero = count_params(current)
    record = TrialRecord(number, arch, str(base.path), steps, accuracy, len(ws.val), total, nonzero, edge,
                         round(time.perf_counter() - start, 2), str(trial_folder(ws, number)), list(ctx.notes))
    write_text(work / RECORD_FILE, json.dumps(record.to_dict(), indent=1) + "\n")
    _publish(ws, number)
    return record


def record_failure(ws: Workspace, number: int, reason: str, details: str) -> None:
    """Keep why a trial failed (the reason, then the traceback) beside what it tried (its recipe.yaml)."""
    work = _partial(ws, number)
    work.mkdir(parents=True, exist_ok=True)
    write_text(work / FAILURE_FILE, f"{reason}\n\n{details}")
    _publish(ws, number)


def discard(ws: Workspace, number: int) -> None:
    """Remove what an unfinished trial wrote (it was interrupted, or the machine failed it)."""
    shutil.rmtree(_partial(ws, number), ignore_errors=True)


def _publish(ws: Workspace, number: int) -> None:
    folder = trial_folder(ws, number)
    if folder.exists():  # trial numbers count per study: another --study's trial in this output folder
        shutil.rmtree(folder)
    os.replace(_partial(ws, number), folder)


def sweep(trials_dir: Path) -> None:
    """Remove unfinished trials whose worker is gone (killed with SIGKILL, or the machine stopped), and this
    process's own: its worker has ended when this is called."""
    for work in Path(trials_dir).glob(f".*{PARTIAL}"):
        pid = work.name.split(".")[2]
        if pid.isdigit() and (int(pid) == os.getpid() or not _alive(int(pid))):
            shutil.rmtree(work, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
