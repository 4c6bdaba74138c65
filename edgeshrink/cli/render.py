"""Tables of a bundle and of its verification in Chromium, for the terminal."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edgeshrink.tables.table import Table


@dataclass(frozen=True)
class VerifyOptions:
    """How thoroughly `bundle --verify` checks: test images per variant, fresh contexts per profile, profiles."""

    images: int
    contexts: int
    profiles: tuple[str, ...]


def _bytes(n: int) -> str:
    return f"{n:,}"


def bundle_table(result, output: Path) -> Table:
    """Every file of the bundle by part (what a static host holds)."""
    ort = f", onnxruntime-web {result.runtime_version}" if result.runtime_version else ", no onnxruntime-web"
    runtimes = ", ".join(f"{name}: {used}" for name, (used, _) in result.runtimes.items())
    rows = [[r["part"], str(r["files"]), _bytes(r["raw"]), _bytes(r["gzip"]), _bytes(r["brotli"])] for r in result.rows()]
    return Table(f"bundle {output} ({runtimes}{ort})", ["part", "files", "bytes", "gzip", "brotli"], rows,
                 {"files", "bytes", "gzip", "brotli"})


def first_visit_table(result) -> Table:
    """What the page transfers on a first visit (its default variant), by part."""
    visit = result.first_visit
    rows = [[part, _bytes(visit[part]["raw"]), _bytes(visit[part]["gzip"]), _bytes(visit[part]["brotli"])]
            for part in ("runtime", "models", "app", "total")]
    return Table(f"first visit ({len(visit['files'])} files; the gallery loads after the first prediction)",
                 ["part", "bytes", "gzip", "brotli"], rows, {"bytes", "gzip", "brotli"})


def _ms(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:.{digits}f} ms"


def verify_table(checked) -> Table:
    profiles = list(checked.variants[0].first_prediction_by_profile) if checked.variants else []
    columns = ["variant", "runtime", "images", "vs onnxruntime", "accuracy", "ms/digit", "ms/digit cpu4x",
               *[f"first {p}" for p in profiles], "on screen", "wire bytes"]
    rows = []
    for c in checked.variants:
        if c.identical_scores is None:
            scores = "same classes"
        else:
            scores = "bit-identical" if c.identical_scores else f"same classes, Δ≤{c.max_score_diff:.1g}"
        rows.append([c.name, c.runtime, f"{c.images:,}", scores, f"{100 * c.accuracy:.2f}%", f"{c.latency_ms:.3f}",
                     "-" if c.latency_ms_cpu4x is None else f"{c.latency_ms_cpu4x:.3f}",
                     *[_ms(c.first_prediction_by_profile[p]) for p in profiles], _ms(c.first_shown_ms),
                     _bytes(c.first_visit_bytes)])
    numeric = {"images", "accuracy", "ms/digit", "ms/digit cpu4x", "on screen", "wire bytes",
               *[f"first {p}" for p in profiles]}
    reference = checked.reference
    return Table(f"verified in {checked.browser} against {reference.int8} ({reference.cpu.describe()}, onnxruntime "
                 f"{reference.onnxruntime}), 1 thread; first prediction: median of {checked.contexts} fresh "
                 "contexts, the answer in the page; on screen: the frame that showed it (localhost); wire bytes: "
                 "a first visit, as served", columns, rows, numeric)
