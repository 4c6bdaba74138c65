"""The variants a bundle offers, read from an `edgeshrink optimize` output folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

from edgeshrink import model
from edgeshrink.errors import BundleError
from edgeshrink.pipeline import FINAL_FILE, INPUT_FILE
from edgeshrink.web.manifest import Variant


def from_optimize_output(folder: str | os.PathLike, baseline: bool = True) -> list[Variant]:
    """The optimized model as 'optimized' and, unless `baseline` is False, the input model as 'baseline'
    (so the page can show both side by side), each with its measured facts."""
    folder = Path(folder)
    report_path = folder / "report.json"
    if not report_path.is_file():
        raise BundleError(f"{folder} has no report.json; pass the output folder of 'edgeshrink optimize'")
    doc = json.loads(report_path.read_text())
    usable = [s for s in doc["steps"] if s["status"] != "over budget"]
    final = usable[-1]["evaluation"] if usable else doc["baseline"]
    recipe = doc["recipe"]
    optimized = _variant("optimized", folder / FINAL_FILE, final, f"after recipe '{recipe}'")
    if not baseline:
        return [optimized]
    return [_variant("baseline", folder / INPUT_FILE, doc["baseline"], f"{doc['model']} as given"), optimized]


def _variant(name: str, path: Path, evaluation: dict, description: str) -> Variant:
    signature = model.stored_signature(model.load(path))
    latency = evaluation.get("latency") or {}
    return Variant(name, path, signature, evaluation["accuracy"], evaluation["params_total"],
                   evaluation["params_nonzero"], latency.get("median_ms"), description)
