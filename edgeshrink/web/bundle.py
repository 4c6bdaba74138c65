"""Build a self-contained web folder: the app, the models, the runtime, sample digits and manifest.json."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from edgeshrink import model as model_io
from edgeshrink import outputs
from edgeshrink.data import Split
from edgeshrink.errors import BundleError, ModelError
from edgeshrink.web import manifest
from edgeshrink.web.manifest import Variant
from edgeshrink.web.runtime import ENTRY, PACKAGE, default_app_dir, ensure_runtime
from edgeshrink.size import Size, measure
from edgeshrink.web.sizes import SizeCache

__all__ = ["BundleResult", "Variant", "bundle"]

APP_SUFFIXES = {".html", ".css", ".js", ".mjs", ".svg", ".png", ".ico", ".webmanifest"}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
PARTS = ("runtime", "models", "app")


@dataclass(frozen=True)
class BundleResult:
    """What a bundle holds and what it costs to download, split into runtime, models and app."""

    out_dir: Path
    runtime_version: str
    parts: dict[str, tuple[int, Size]]  # part -> (files, size)
    variants: dict[str, Size]  # variant name -> its model file's size

    @property
    def total(self) -> Size:
        return sum((size for _, size in self.parts.values()), Size())

    def rows(self) -> list[dict]:
        """One plain row per part and a total: part, files, raw, gzip, brotli (bytes)."""
        rows = [{"part": name, "files": files, **size.to_dict()} for name, (files, size) in self.parts.items()]
        files = sum(files for files, _ in self.parts.values())
        return rows + [{"part": "total", "files": files, **self.total.to_dict()}]


def bundle(variants: list[Variant], out_dir: str | os.PathLike, app_dir: str | os.PathLike | None = None,
           samples: int | Split = 100, ort_dir: str | os.PathLike | None = None, force: bool = False) -> BundleResult:
    """Write the web bundle for `variants` to out_dir, never half-written: an earlier bundle there is replaced,
    files edgeshrink did not write (a CNAME, a _headers) are kept; any other folder needs `force`.

    `samples` is the gallery: a number of digits taken from the start of the MNIST test set, or a Split.
    `ort_dir` is the onnxruntime-web cache (default: see runtime.cache_root).
    """
    out_dir = Path(out_dir)
    app_dir = Path(app_dir) if app_dir else default_app_dir()
    _check_variants(variants)
    legacy = _legacy_names(out_dir, app_dir)
    outputs.check_target(out_dir, "bundle", force, legacy)
    runtime = ensure_runtime(app_dir, ort_dir)
    gallery, source = _gallery(samples)
    cache = SizeCache(runtime.folder.parent / "sizes.json", seeds=(app_dir / "runtime-sizes.json",))
    with outputs.staged(out_dir, "bundle", force, legacy) as tmp:
        runtime_size = sum((_copy(f, tmp / "ort" / f.name, cache) for f in runtime.files), Size())
        model_sizes = {v.name: _copy(v.model_path, tmp / "models" / f"{v.name}.onnx", cache) for v in variants}
        parts = {
            "runtime": (len(runtime.files), runtime_size),
            "models": (len(variants), sum(model_sizes.values(), Size())),
            "app": _write_app(app_dir, tmp, gallery, cache),
        }
        doc = _manifest(variants, model_sizes, runtime.version, (gallery, source), parts)
        _count_manifest(doc, parts)
        manifest.write(tmp, doc)
        cache.save()
    return BundleResult(out_dir, runtime.version, parts, model_sizes)


def _write_app(app_dir: Path, tmp: Path, gallery: Split, cache: SizeCache) -> tuple[int, Size]:
    """Copy the page's files and write the gallery's digits; (files, size) of what was written."""
    files = _app_files(app_dir)
    size = sum((_copy(f, tmp / f.relative_to(app_dir), cache) for f in files), Size())
    data = np.concatenate([gallery.images.reshape(-1), gallery.labels]).astype(np.uint8).tobytes()
    (tmp / manifest.SAMPLES_FILE).write_bytes(data)
    return len(files) + 1, size + cache.measure(data)


def _count_manifest(doc: dict, parts: dict) -> None:
    """Add manifest.json to the app's size; it holds its own size, so render until the numbers settle."""
    files, app_size = parts["app"]
    text = manifest.render(doc)
    for _ in range(5):
        parts["app"] = (files + 1, app_size + measure(text.encode()))
        doc["sizes"] = manifest.sizes_entry(parts)
        text, previous = manifest.render(doc), text
        if text == previous:
            break


def _check_variants(variants: list[Variant]) -> None:
    if not variants:
        raise BundleError("no model variants to bundle; pass at least one model")
    seen = set()
    for v in variants:
        if not _NAME.fullmatch(v.name):
            raise BundleError(f"variant name {v.name!r} cannot be a file name; use letters, digits, '.', '_', '-'")
        if v.name in seen:
            raise BundleError(f"two variants are named {v.name!r}; give each a different name")
        seen.add(v.name)
        _check_model(v)


def _check_model(v: Variant) -> None:
    try:
        model = model_io.load(v.model_path)
    except ModelError as exc:
        raise BundleError(f"variant {v.name}: {exc}") from exc
    inputs = [i.name for i in model_io.graph_inputs(model)]
    if v.signature.input_name not in inputs:
        raise BundleError(f"variant {v.name}: the model has no input {v.signature.input_name!r} (it has "
                          f"{', '.join(inputs)}); fix the variant's signature")
    if v.signature.output_index >= len(model.graph.output):
        raise BundleError(f"variant {v.name}: the model has no output number {v.signature.output_index}; "
                          "fix the variant's signature")


def _legacy_names(out_dir: Path, app_dir: Path) -> set[str]:
    """What a bundle written before folders had a marker holds, if `out_dir` is one (else nothing)."""
    if not out_dir.is_dir() or not _is_bundle(out_dir):
        return set()
    app = {f.relative_to(app_dir).parts[0] for f in _app_files(app_dir)}
    return {"ort", "models", manifest.NAME, manifest.SAMPLES_FILE} | app


def _is_bundle(folder: Path) -> bool:
    try:
        return manifest.read(folder).get("generator", "").startswith("edgeshrink")
    except BundleError:
        return False


def _gallery(samples: int | Split) -> tuple[Split, str]:
    """The gallery's digits and where they come from."""
    if isinstance(samples, Split):
        gallery, source = samples, "given by the caller"
    else:
        from edgeshrink import data

        gallery = data.load("test").take(samples)
        source = f"MNIST test set, the first {len(gallery)} images"
    if not 1 <= len(gallery) <= 10000:
        raise BundleError(f"the gallery needs 1 to 10000 sample digits, not {len(gallery)}")
    return gallery, source


def _app_files(app_dir: Path) -> list[Path]:
    files = sorted(
        p for p in app_dir.rglob("*")
        if p.is_file() and p.suffix in APP_SUFFIXES
        and not any(part.startswith(".") or part == "node_modules" for part in p.relative_to(app_dir).parts)
    )
    if not any(p.name == "index.html" for p in files):
        raise BundleError(f"the web app folder {app_dir} has no index.html; pass the page's folder")
    return files


def _copy(source: Path, target: Path, cache: SizeCache) -> Size:
    target.parent.mkdir(parents=True, exist_ok=True)
    data = Path(source).read_bytes()
    target.write_bytes(data)
    return cache.measure(data)


def _manifest(variants: list[Variant], model_sizes: dict[str, Size], version: str,
              gallery: tuple[Split, str], parts: dict) -> dict:
    return {
        "format": manifest.FORMAT,
        "generator": f"edgeshrink {_package_version()}",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "default": variants[0].name,
        "runtime": {"package": PACKAGE, "version": version, "entry": f"ort/{ENTRY}", "wasm_dir": "ort/",
                    "threads": 1},
        "samples": manifest.samples_entry(len(gallery[0]), gallery[1]),
        "variants": [manifest.variant_entry(v, model_sizes[v.name]) for v in variants],
        "sizes": manifest.sizes_entry(parts),
        "verification": None,
    }


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("edgeshrink")
    except PackageNotFoundError:
        return "(source)"
