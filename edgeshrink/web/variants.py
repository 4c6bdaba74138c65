"""The variants a bundle offers, read from an `edgeshrink optimize` output folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

from edgeshrink import model
from edgeshrink.errors import BundleError
from edgeshrink.pipeline import FINAL_FILE, INPUT_FILE, KEPT
from edgeshrink.web.manifest import Variant


def from_optimize_output(folder: str | os.PathLike, baseline: bool = True) -> list[Variant]:
    """The optimized model as 'optimized' and, unless `baseline` is False, the input model as 'baseline'
    (so the page can show both side by side), each with its measured facts."""
    folder = Path(folder)
    report_path = folder / "report.json"
    if not report_path.is_file():
        raise BundleError(f"{folder} has no report.json; pass the output folder of 'edgeshrink optimize'")
    try:
        doc = json.loads(report_path.read_text(encoding="utf-8"))
        usable = [s for s in doc["steps"] if s["status"] in KEPT]
        final = usable[-1]["evaluation"] if usable else doc["baseline"]
        recipe, name, base = doc["recipe"], doc["model"], doc["baseline"]
    except (ValueError, KeyError, TypeError, IndexError) as exc:  # not JSON, or not an optimize report
        raise BundleError(f"{report_path} is not a report of 'edgeshrink optimize' ({type(exc).__name__}: {exc}); "
                          "run 'edgeshrink optimize' again into that folder") from exc
    optimized = _variant("optimized", folder / FINAL_FILE, final, f"after recipe '{recipe}'")
    if not baseline:
        return [optimized]
    return [_variant("baseline", folder / INPUT_FILE, base, f"{name} as given"), optimized]


def _variant(name: str, path: Path, evaluation: dict, description: str) -> Variant:
    signature = model.stored_signature(model.load(path))
    if signature is None:  # edgeshrink records it in every model it writes: this file was replaced
        raise BundleError(f"{path} was not written by 'edgeshrink optimize' (it records no signature); "
                          "run 'edgeshrink optimize' again into that folder")
    try:
        measured = evaluation["size"]["raw"]
        latency = evaluation.get("latency") or {}
        if path.stat().st_size != measured:
            raise BundleError(f"{path} is not the model the report measured ({path.stat().st_size:,} bytes, not "
                              f"{measured:,}); run 'edgeshrink optimize' again into that folder")
        return Variant(name, path, signature, evaluation["accuracy"], evaluation["params_total"],
                       evaluation["params_nonzero"], latency.get("median_ms"), description)
    except (AttributeError, KeyError, TypeError) as exc:
        raise BundleError(f"the report beside {path} lacks its measurements ({exc}); "
                          "run 'edgeshrink optimize' again into that folder") from exc
