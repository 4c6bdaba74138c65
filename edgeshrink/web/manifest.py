"""manifest.json: what a bundle holds, read by `verify` and by people; the page reads the same record from
inside its index.html, where it needs no request."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path


from edgeshrink.atomic import write_bytes
from edgeshrink.errors import BundleError
from edgeshrink.signature import Preprocess, Signature
from edgeshrink.size import Size
from edgeshrink.web import inline, transfer
from edgeshrink.web.compress import ENCODINGS, compress

FORMAT = 3  # 2: a runtime per variant, .br/.gz beside each file, first-visit sizes; 3: a copy inside index.html
NAME = transfer.MANIFEST
PAGE = "index.html"
SAMPLES_FILE = "samples.bin"


@dataclass(frozen=True)
class Variant:
    """One model offered by the page, with the facts the picker shows."""

    name: str  # letters, digits, '.', '_' or '-': it becomes models/<name>.onnx and ?model=<name>
    model_path: Path
    signature: Signature
    accuracy: float  # top-1 on the MNIST test set, 0..1
    params_total: int
    params_nonzero: int
    latency_ms: float | None  # onnxruntime (Python, CPU) median per image, batch 1
    description: str = ""


def variant_entry(variant: Variant, size: Size) -> dict:
    """The manifest's record of one variant: its file, sizes, facts and the signature, flattened."""
    sig = variant.signature
    shape = sig.input_shape(sig.batch or 1)
    return {
        "name": variant.name,
        "description": variant.description,
        "file": f"models/{variant.name}.onnx",
        "bytes": size.raw,
        "gzip_bytes": size.gzip,
        "brotli_bytes": size.brotli,
        "accuracy": variant.accuracy,
        "params": variant.params_total,
        "nonzero_params": variant.params_nonzero,
        "latency_ms": variant.latency_ms,
        "input_name": sig.input_name,
        "input_shape": [None, *shape[1:]] if sig.batch is None else list(shape),
        "layout": sig.layout,
        "batch": sig.batch,
        "dtype": sig.dtype,
        "preprocess": {"scale": sig.preprocess.scale, "mean": sig.preprocess.mean, "std": sig.preprocess.std},
        "output_index": sig.output_index,
        "output_kind": sig.output_kind,
        "output_name": sig.output_name,
        "browser": None,  # filled in by verify
    }


def entry_signature(entry: dict) -> Signature:
    """The Signature a manifest entry was written from (the one the page feeds the model with)."""
    return Signature(
        input_name=entry["input_name"],
        layout=entry["layout"],
        batch=entry["batch"],
        dtype=entry["dtype"],
        preprocess=Preprocess(**entry["preprocess"]),
        output_index=entry["output_index"],
        output_kind=entry["output_kind"],
        output_name=entry.get("output_name", ""),
    )


def samples_entry(count: int, source: str) -> dict:
    return {
        "file": SAMPLES_FILE,
        "count": count,
        "source": source,
        # exact pixels: "Classify all" scores the model on these real test digits, not on a likeness of them
        "format": "count x 784 uint8 pixels (28x28 row-major, white digit on black), then count uint8 labels",
    }


def sizes_entry(parts: dict[str, tuple[int, Size]]) -> dict:
    table = {name: {"files": files, **size.to_dict()} for name, (files, size) in parts.items()}
    total = sum((size for _, size in parts.values()), Size())
    table["total"] = {"files": sum(files for files, _ in parts.values()), **total.to_dict()}
    return table


def render(manifest: dict) -> str:
    return json.dumps(manifest, indent=2) + "\n"


def read(dist: str | os.PathLike) -> dict:
    path = Path(dist) / NAME
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise BundleError(f"{path} does not exist; build the bundle first with edgeshrink bundle") from exc
    except (OSError, ValueError) as exc:
        raise BundleError(f"{path} is not readable JSON ({exc}); rebuild the bundle") from exc
    if manifest.get("format") != FORMAT or not manifest.get("variants"):
        raise BundleError(f"{path} is not an edgeshrink bundle manifest (format {FORMAT}); rebuild the bundle")
    return manifest


def embed(page: str, manifest: dict) -> str:
    """The page's HTML with `manifest` inside it."""
    return inline.element(page, "manifest", manifest)


def write(dist: str | os.PathLike, manifest: dict, files: dict[str, Size] | None = None) -> dict[str, Size]:
    """Write manifest.json and the page's copy inside index.html, each with its .gz and .br (a server would
    otherwise send old ones). Both record the bundle's sizes, index.html's own included, so they are
    rendered until the numbers settle. `files`: each file's sizes by bundle path (None: measured in `dist`);
    returns them as written."""
    dist = Path(dist)
    files = dict(files) if files is not None else transfer.measure(dist)
    page = (dist / PAGE).read_text()
    for _ in range(8):
        _fill_sizes(manifest, files)
        written = {NAME: _write(dist / NAME, render(manifest).encode()),
                   PAGE: _write(dist / PAGE, embed(page, manifest).encode())}
        if all(files.get(name) == size for name, size in written.items()):
            return files
        files.update(written)
    return files


def _write(path: Path, data: bytes) -> Size:
    gz, br = compress(data)
    for suffix, blob in (("", data), (ENCODINGS["gzip"], gz), (ENCODINGS["br"], br)):
        # the file before its copies, so they are never older than it; a web server running as another user
        # must be able to read them
        write_bytes(path.with_name(path.name + suffix), blob).chmod(0o644)
    return Size(len(data), len(gz), len(br))


def _fill_sizes(manifest: dict, files: dict[str, Size]) -> None:
    manifest["sizes"] = sizes_entry(transfer.by_part(files))
    for entry in manifest["variants"]:
        entry["first_visit"] = {k: v for k, v in transfer.first_visit(files, entry).items() if k != "files"}
    default = next(e for e in manifest["variants"] if e["name"] == manifest["default"])
    manifest["first_visit"] = transfer.first_visit(files, default)
