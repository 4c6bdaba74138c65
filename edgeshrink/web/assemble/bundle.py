"""Build a self-contained web folder: the app, the models and their runtimes, sample digits and manifest.json,
every file with its .gz and .br beside it."""

from __future__ import annotations

import base64
import json
import os
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import onnx

from edgeshrink import outputs
from edgeshrink.core import model as model_io
from edgeshrink.data import Split
from edgeshrink.errors import BundleError, ModelError
from edgeshrink.size import Size
from edgeshrink.web.assemble import appfiles, gallery, manifest, transfer
from edgeshrink.web.assemble.compress import Compressor
from edgeshrink.web.assemble.manifest import Variant
from edgeshrink.web.assemble.ortweb import ENTRY, PACKAGE, Runtime, cache_root, default_app_dir, ensure_runtime
from edgeshrink.web.assemble.placement import Placement, place

__all__ = ["BundleResult", "Variant", "bundle"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass(frozen=True)
class BundleResult:
    """What a bundle holds and what it costs to download, split into runtime, models and app."""

    out_dir: Path
    runtime_version: str | None  # onnxruntime-web's, when some variant runs on it
    parts: dict[str, tuple[int, Size]]  # part -> (files, size)
    variants: dict[str, Size]  # variant name -> its ONNX file's size
    runtimes: dict[str, tuple[str, str | None]]  # variant name -> (runtime, why not the compiled one)
    first_visit: dict  # what the page loads on a first visit of its default variant (transfer.first_visit)
    checked: object = None  # what `check` returned, if the bundle was checked before it was moved in
    # variant name -> its first visit's bytes by part, as its manifest entry records them (without the file list)
    first_visits: dict[str, dict] = field(default_factory=dict)

    @property
    def total(self) -> Size:
        return sum((size for _, size in self.parts.values()), Size())

    def rows(self) -> list[dict]:
        """One plain row per part and a total: part, files, raw, gzip, brotli (bytes)."""
        rows = [{"part": name, "files": files, **size.to_dict()} for name, (files, size) in self.parts.items()]
        files = sum(files for files, _ in self.parts.values())
        return rows + [{"part": "total", "files": files, **self.total.to_dict()}]


def bundle(variants: list[Variant], out_dir: str | os.PathLike, app_dir: str | os.PathLike | None = None,
           samples: int | Split = 100, ort_dir: str | os.PathLike | None = None, runtime: str = "compiled",
           default: str | None = None, force: bool = False,
           check: Callable[[Path], object] | None = None, inputs: Sequence[str | os.PathLike] = (),
           build: str = "page", gallery_levels: int = gallery.DEFAULT) -> BundleResult:
    """Write the web bundle for `variants` to out_dir, never half-written: an earlier bundle there is replaced,
    files edgeshrink did not write (a CNAME, a _headers) are kept; any other folder needs `force`.

    `samples` is the gallery: a number of digits taken from the start of the MNIST test set, or a Split;
    `gallery_levels` the grey levels of its pixels (2-256; 256: exact, else each rounded to the nearest, which the
    manifest and the page say: gallery.py, and why 8). The first digit, which the first answer classifies, stays
    exact.
    `runtime` is 'compiled' (where the compiler covers the model; else onnxruntime-web, with the reason in
    the manifest) or 'ort', and `build` how the compiled runtime is built (runtime.compiler.BUILDS). `default`
    is the variant the page shows first (the first variant if None).
    `ort_dir` is the onnxruntime-web cache (see runtime.cache_root). `check` (web.verify, say) gets the finished
    folder before it is moved in: when it raises, out_dir stays as it was. `inputs`: what the caller was given
    (an optimize run, say), which out_dir must not replace, as the variants' models must not.
    """
    out_dir = Path(out_dir)
    app_dir = Path(app_dir) if app_dir else default_app_dir()
    protos = _check_variants(variants)
    default = default or variants[0].name
    if default not in {v.name for v in variants}:
        raise BundleError(f"the default variant {default!r} is not among {', '.join(v.name for v in variants)}")
    legacy = _legacy_names(out_dir, app_dir)
    inputs = [*inputs, *(v.model_path for v in variants)]
    outputs.check_target(out_dir, "bundle", force, legacy, inputs)
    app_files, app_texts = appfiles.shipped(app_dir)
    placements = [place(v, protos[v.name], runtime, build) for v in variants]
    shown = next(p for p in placements if p.variant.name == default)
    carried = appfiles.carry_model(app_texts, shown, cache_root(ort_dir))
    ort = ensure_runtime(app_dir, ort_dir) if any(p.runtime == "ort" for p in placements) else None
    gallery_digits = _gallery(samples, gallery_levels)
    with outputs.staged(out_dir, "bundle", force, legacy, inputs) as tmp:
        writer = Compressor(cache_root(ort_dir) / "compressed")
        files = _write_files(tmp, writer, app_dir, app_files, app_texts, placements, ort, gallery_digits.digits)
        doc = _manifest(placements, files, ort, gallery_digits, default, carried)
        files = manifest.write(tmp, doc, files)
        checked = _checked(check, tmp, out_dir) if check else None
    return BundleResult(out_dir, ort.version if ort else None, transfer.by_part(files),
                        {p.variant.name: files[_onnx(p)] for p in placements},
                        {p.variant.name: (p.runtime, p.reason) for p in placements}, doc["first_visit"], checked,
                        {e["name"]: e["first_visit"] for e in doc["variants"]})


def _checked(check: Callable[[Path], object], tmp: Path, out_dir: Path) -> object:
    try:
        return check(tmp)
    except BundleError as exc:
        raise BundleError(f"{exc} (so the bundle was not written to {out_dir})") from exc


def _onnx(p: Placement) -> str:
    return f"models/{p.variant.name}.onnx"


def _write_files(tmp: Path, writer: Compressor, app_dir: Path, app_files: list[Path], app_texts: dict[str, str],
                 placements: list[Placement], ort: Runtime | None, gallery: Split) -> dict[str, Size]:
    """Write everything but the manifest (an app file in `app_texts` as that text); each file's size by its path."""
    files = {}
    for f in ort.files if ort else ():
        files[f"ort/{f.name}"] = writer.copy(f, tmp / "ort" / f.name)
    for p in placements:
        files[_onnx(p)] = writer.copy(p.variant.model_path, tmp / _onnx(p))
        for name, data in p.files.items():
            files[f"models/{p.variant.name}/{name}"] = writer.write(data, tmp / "models" / p.variant.name / name)
    for f in app_files:
        path = f.relative_to(app_dir).as_posix()
        if path in app_texts:
            files[path] = writer.write(app_texts[path].encode(), tmp / path)
        else:
            files[path] = writer.copy(f, tmp / path)
    data = manifest.samples_bytes(gallery.images, gallery.labels)
    files[manifest.SAMPLES_FILE] = writer.write(data, tmp / manifest.SAMPLES_FILE)
    return files


def _check_variants(variants: list[Variant]) -> dict[str, onnx.ModelProto]:
    """Each variant's model by name, read once (or as the variant carries it) and checked against its signature."""
    if not variants:
        raise BundleError("no model variants to bundle; pass at least one model")
    protos = {}
    for v in variants:
        if not _NAME.fullmatch(v.name):
            raise BundleError(f"variant name {v.name!r} cannot be a file name; use letters, digits, '.', '_', '-'")
        if v.name in protos:
            raise BundleError(f"two variants are named {v.name!r}; give each a different name")
        protos[v.name] = _check_model(v)
    return protos


def _check_model(v: Variant) -> onnx.ModelProto:
    try:
        model = v.proto if v.proto is not None else model_io.load(v.model_path)
    except ModelError as exc:
        raise BundleError(f"variant {v.name}: {exc}") from exc
    inputs = [i.name for i in model_io.graph_inputs(model)]
    if v.signature.input_name not in inputs:
        raise BundleError(f"variant {v.name}: the model has no input {v.signature.input_name!r} (it has "
                          f"{', '.join(inputs)}); fix the variant's signature")
    if v.signature.output_index >= len(model.graph.output):
        raise BundleError(f"variant {v.name}: the model has no output number {v.signature.output_index}; "
                          "fix the variant's signature")
    return model


def _legacy_names(out_dir: Path, app_dir: Path) -> set[str]:
    """What a bundle written before folders had a marker holds, if `out_dir` is one (else nothing)."""
    if not out_dir.is_dir() or not _is_bundle(out_dir):
        return set()
    app = {f.relative_to(app_dir).parts[0] for f in appfiles.files(app_dir)}
    known = {"ort", "models", manifest.NAME, manifest.SAMPLES_FILE} | app
    return known | {f"{name}{ext}" for name in known for ext in (".gz", ".br")}


def _is_bundle(folder: Path) -> bool:
    """A bundle of any format version: its manifest names edgeshrink as the generator."""
    try:
        doc = json.loads((folder / manifest.NAME).read_text())
        return isinstance(doc, dict) and str(doc.get("generator", "")).startswith("edgeshrink")
    except (OSError, ValueError):
        return False


@dataclass(frozen=True)
class _Gallery:
    """The gallery's digits as shipped (in `levels` grey levels), the first one exact, and where they come from."""

    digits: Split
    first: bytes  # the first digit's exact 784 pixels: the first answer classifies it
    source: str
    levels: int


def _gallery(samples: int | Split, levels: int) -> _Gallery:
    """The gallery's digits and where they come from."""
    gallery.check_levels(levels)
    if isinstance(samples, Split):
        digits, source = samples, "given by the caller"
    else:
        from edgeshrink import data

        digits = data.load("test").take(samples)
        source = f"MNIST test set, the first {len(digits)} images"
    if not 1 <= len(digits) <= 10000:
        raise BundleError(f"the gallery needs 1 to 10000 sample digits, not {len(digits)}")
    first = digits.images[0].astype(np.uint8).tobytes()
    shipped = replace(digits, images=gallery.rounded(digits.images, levels))
    return _Gallery(shipped, first, source + gallery.described(levels), levels)


def _manifest(placements: list[Placement], files: dict[str, Size], ort: Runtime | None,
              gallery_digits: _Gallery, default: str, carried: bool) -> dict:
    return {
        "format": manifest.FORMAT,
        "generator": f"edgeshrink {_package_version()}",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "default": default,
        "ort": {"package": PACKAGE, "version": ort.version, "entry": f"ort/{ENTRY}", "wasm_dir": "ort/",
                "threads": 1} if ort else None,
        "samples": {**manifest.samples_entry(len(gallery_digits.digits), gallery_digits.source, gallery_digits.levels),
                    # the first prediction's digit travels in the manifest: the gallery loads after it
                    "first": base64.b64encode(gallery_digits.first).decode()},
        "variants": [_variant_entry(p, files, carried and p.variant.name == default) for p in placements],
        "sizes": None,
        "first_visit": None,
        "verification": None,
    }


def _variant_entry(p: Placement, files: dict[str, Size], carried: bool) -> dict:
    compiled = None
    if p.runtime == "compiled":
        folder = f"models/{p.variant.name}"
        wasm = next(name for name in p.files if name.endswith(".wasm"))
        # inline: index.html carries the wasm too (the files stay, for tools and for a page showing another
        # variant); shape: what the page needs to run it (js/compiled.js), where Node and tools import the entry
        compiled = {"entry": f"{folder}/{p.entry}", "wasm": f"{folder}/{wasm}", "inline": carried, "shape": p.shape}
    return manifest.VariantEntry.of(p.variant, files[_onnx(p)], p.runtime, p.reason, p.quantized, compiled).to_dict()


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("edgeshrink")
    except PackageNotFoundError:
        return "(source)"
