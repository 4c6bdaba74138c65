"""Write a pipeline report as report.json, report.md and report.csv (atomically)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from edgeshrink.atomic import write_text
from edgeshrink.report.render import csv_text, markdown
from edgeshrink.report.table import steps_table


def outcome(report) -> str:
    """One sentence: did the recipe complete, and if not, which step broke the budget by how much."""
    if report.completed:
        return f"recipe '{report.recipe}' completed; final model {report.final}"
    step = next(s for s in report.steps if s.position == report.stopped_at)
    drop = 100 * (report.baseline.accuracy - step.evaluation.accuracy)
    floor = report.min_accuracy
    if floor is not None and 100 * step.evaluation.accuracy < floor:
        return (f"recipe '{report.recipe}' stopped: step {step.position} ({step.name}) measured "
                f"{100 * step.evaluation.accuracy:.2f}%, below the {floor:g}% floor; {report.final} is the last "
                "model within budget")
    return (f"recipe '{report.recipe}' stopped: step {step.position} ({step.name}) lost {drop:.2f} pt, over the "
            f"{report.max_drop:g} pt budget by {drop - report.max_drop:.2f} pt; {report.final} is the last model "
            "within budget")


def to_dict(report) -> dict:
    out = dataclasses.asdict(report)
    out["completed"] = report.completed
    out["outcome"] = outcome(report)
    return out


def write(report, folder: Path) -> list[Path]:
    table = steps_table(report)
    notes = [f"- input: {n}" for n in report.baseline.notes]
    notes += [f"- step {s.position} ({s.name}): {n}" for s in report.steps for n in s.notes]
    md = markdown(table) + f"\n{outcome(report)}.\n" + ("\n" + "\n".join(notes) + "\n" if notes else "")
    return [
        write_text(folder / "report.json", json.dumps(to_dict(report), indent=2)),
        write_text(folder / "report.md", md),
        write_text(folder / "report.csv", csv_text(table)),
    ]
