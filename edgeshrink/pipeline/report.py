"""The run folder as an API: what `edgeshrink optimize` measured, written to and read from report.json.

report.json carries `"schema": SCHEMA`. A reader takes every schema up to its own (a report written
before the schema was versioned reads as schema 1) and ignores fields it does not know, so adding a
field keeps the schema; renaming, removing or changing the meaning of one raises it.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgeshrink.atomic import write_text
from edgeshrink.engine import Engine
from edgeshrink.errors import ReportError, reason
from edgeshrink.evaluate import Evaluation
from edgeshrink.tables import csv_text, markdown, outcome, steps_table

SCHEMA = 1
INPUT_FILE = "00-input.onnx"
FINAL_FILE = "model.opt.onnx"
REPORT_FILE = "report.json"


@dataclass(frozen=True)
class StepResult:
    """What one step did and what the model measured afterwards."""

    position: int
    name: str
    params: dict[str, Any]
    evaluation: Evaluation
    seconds: float
    file: str
    status: str  # one of STATUSES
    notes: list[str] = field(default_factory=list)

    @property
    def kept(self) -> bool:
        """Whether the next step starts from this step's model."""
        return self.status in KEPT


    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "StepResult":
        return cls(**{**_known(cls, data), "evaluation": Evaluation.from_dict(data["evaluation"])})


# "unchanged": the pass had nothing to do; "worse": kept, but larger or slower than its input; "skipped": not
# kept (worse with skip_if_worse, or unsafe on int8 weights), the next step starts from this step's input.
STATUSES = ("ok", "unchanged", "worse", "skipped", "over budget")
KEPT = ("ok", "unchanged", "worse")


@dataclass
class PipelineReport:
    """The whole run: the input's measurements, each step's, and where it stopped."""

    model: str
    recipe: str
    max_drop: float  # percentage points
    baseline: Evaluation
    steps: list[StepResult] = field(default_factory=list)
    min_accuracy: float | None = None  # percent: an absolute floor besides max_drop
    folder: str = ""  # where every file of the run was written
    final: str = ""  # file of the last model within budget
    stopped_at: int | None = None  # position of the step that broke the budget
    machine: Engine | None = None  # the CPU, onnxruntime, and what computed int8 arithmetic (older reports: None)

    @property
    def completed(self) -> bool:
        return self.stopped_at is None

    @property
    def final_evaluation(self) -> Evaluation:
        ok = [s.evaluation for s in self.steps if s.kept]
        return ok[-1] if ok else self.baseline

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, **dataclasses.asdict(self), "completed": self.completed, "outcome": outcome(self)}

    def write(self, folder: str | os.PathLike) -> list[Path]:
        """report.json, and the same steps as report.md and report.csv, into `folder` (atomically)."""
        folder = Path(folder)
        table = steps_table(self)
        notes = [f"- input: {n}" for n in self.baseline.notes]
        notes += [f"- step {s.position} ({s.name}): {n}" for s in self.steps for n in s.notes]
        md = markdown(table) + f"\n{outcome(self)}.\n" + ("\n" + "\n".join(notes) + "\n" if notes else "")
        if self.machine:
            md += f"\nMeasured with {self.machine.describe()}.\n"
        return [
            write_text(folder / REPORT_FILE, json.dumps(self.to_dict(), indent=2)),
            write_text(folder / "report.md", md),
            write_text(folder / "report.csv", csv_text(table)),
        ]

    @classmethod
    def read(cls, folder: str | os.PathLike) -> "PipelineReport":
        """The report of an `edgeshrink optimize` output folder; `folder` becomes its `folder`."""
        path = Path(folder) / REPORT_FILE
        if not path.is_file():
            raise ReportError(f"{folder} has no {REPORT_FILE}; pass the output folder of 'edgeshrink optimize'")
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ReportError(_invalid(path, exc)) from exc
        schema = doc.get("schema", 1) if isinstance(doc, dict) else None
        if isinstance(schema, int) and schema > SCHEMA:
            raise ReportError(f"{path} has report schema {schema}, newer than this edgeshrink reads (up to {SCHEMA}); "
                              "upgrade edgeshrink (pip install -U edgeshrink)")
        try:
            if schema not in range(1, SCHEMA + 1):
                raise ValueError(f"schema {schema!r}")
            return cls.from_dict({**doc, "folder": str(folder)})
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ReportError(_invalid(path, exc)) from exc

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "PipelineReport":
        values = _known(cls, data)
        values["baseline"] = Evaluation.from_dict(data["baseline"])
        values["steps"] = [StepResult.from_dict(step) for step in data["steps"]]
        values["machine"] = Engine.from_dict(data["machine"]) if data.get("machine") else None
        return cls(**values)


def _invalid(path: Path, exc: BaseException) -> str:
    return f"{path} is not a report of 'edgeshrink optimize' ({reason(exc)}); run 'edgeshrink optimize' again"


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    """The entries of `data` that are fields of `cls` (later versions may add others)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {key: value for key, value in data.items() if key in names}
