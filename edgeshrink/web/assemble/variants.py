"""The variants a bundle offers, read from an `edgeshrink optimize` output folder."""

from __future__ import annotations

import os
from pathlib import Path

from edgeshrink.core import model as model_io
from edgeshrink.errors import BundleError, ReportError
from edgeshrink.evaluate import Evaluation
from edgeshrink.pipeline import FINAL_FILE, INPUT_FILE, PipelineReport
from edgeshrink.web.assemble.manifest import Variant


def from_optimize_output(folder: str | os.PathLike, baseline: bool = True) -> list[Variant]:
    """The optimized model as 'optimized' and, unless `baseline` is False, the input model as 'baseline'
    (so the page can show both side by side), each with its measured facts."""
    folder = Path(folder)
    try:
        run = PipelineReport.read(folder)
    except ReportError as exc:
        raise BundleError(str(exc)) from exc
    optimized = _variant("optimized", folder / FINAL_FILE, run.final_evaluation, f"after recipe '{run.recipe}'")
    if not baseline:
        return [optimized]
    return [_variant("baseline", folder / INPUT_FILE, run.baseline, f"{run.model} as given"), optimized]


def _variant(name: str, path: Path, evaluation: Evaluation, description: str) -> Variant:
    proto = model_io.load_own(path)  # what optimize wrote: the bundle reads it no more
    signature = model_io.stored_signature(proto)
    if signature is None:  # edgeshrink records it in every model it writes: this file was replaced
        raise BundleError(f"{path} was not written by 'edgeshrink optimize' (it records no signature); "
                          "run 'edgeshrink optimize' again into that folder")
    if path.stat().st_size != evaluation.size.raw:
        raise BundleError(f"{path} is not the model the report measured ({path.stat().st_size:,} bytes, not "
                          f"{evaluation.size.raw:,}); run 'edgeshrink optimize' again into that folder")
    latency = evaluation.latency.median_ms if evaluation.latency else None
    return Variant(name, path, signature, evaluation.accuracy, evaluation.params_total,
                   evaluation.params_nonzero, latency, description, proto=proto)
