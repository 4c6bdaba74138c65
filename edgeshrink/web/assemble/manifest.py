"""manifest.json: what a bundle holds, read by `verify` and by people; the page reads what it needs of the same
record (pagecopy.py) from inside its index.html, where it needs no request."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
import onnx

from edgeshrink.atomic import write_bytes
from edgeshrink.core.signature import Signature
from edgeshrink.errors import BundleError
from edgeshrink.size import Size
from edgeshrink.web.assemble import footer, gallery, inline, picker, transfer
from edgeshrink.web.assemble.compress import ENCODINGS, compress
from edgeshrink.web.assemble.pagecopy import page_copy

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
    # what the caller loaded and compiled already (the search's frontier): the bundle neither reads the file nor
    # compiles the model again (`compiled`: the runtime.Compiled of model_path, fed as `signature`)
    proto: onnx.ModelProto | None = field(default=None, repr=False, compare=False)
    compiled: object = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class VariantEntry:
    """One variant as manifest.json records it: its file and sizes, the facts the picker shows, the signature the
    page feeds it with (flat in the JSON, where the page reads it), and the runtime that runs it."""

    name: str
    description: str
    file: str  # models/<name>.onnx
    size: Size  # of that file
    accuracy: float
    params: int
    nonzero_params: int
    latency_ms: float | None
    signature: Signature
    runtime: str  # "compiled" or "ort"
    runtime_reason: str | None = None  # why onnxruntime-web runs a variant the compiled runtime was asked for
    quantized: bool = False  # int8 arithmetic where it runs: its scores must be bit-identical to exact arithmetic
    compiled: dict | None = None  # {"entry", "wasm", "inline", "shape"}: the compiled runtime's files, how to run it
    browser: dict | None = None  # what verify measured in Chromium
    first_visit: dict | None = None  # its first visit's bytes by part, filled in when the sizes are known

    @classmethod
    def of(cls, variant: Variant, size: Size, runtime: str, reason: str | None = None, quantized: bool = False,
           compiled: dict | None = None) -> "VariantEntry":
        return cls(variant.name, variant.description, f"models/{variant.name}.onnx", size, variant.accuracy,
                   variant.params_total, variant.params_nonzero, variant.latency_ms, variant.signature, runtime,
                   reason, quantized, compiled)

    def to_dict(self) -> dict:
        sig = self.signature.to_dict()
        shape = self.signature.input_shape(self.signature.batch or 1)
        out = {"name": self.name, "description": self.description, "file": self.file, "bytes": self.size.raw,
               "gzip_bytes": self.size.gzip, "brotli_bytes": self.size.brotli, "accuracy": self.accuracy,
               "params": self.params, "nonzero_params": self.nonzero_params, "latency_ms": self.latency_ms,
               "input_name": sig.pop("input_name"),
               "input_shape": [None, *shape[1:]] if self.signature.batch is None else list(shape),
               **sig, "browser": self.browser, "runtime": self.runtime, "runtime_reason": self.runtime_reason,
               "quantized": self.quantized, "compiled": self.compiled}
        return out if self.first_visit is None else {**out, "first_visit": self.first_visit}

    @classmethod
    def from_dict(cls, data: dict) -> "VariantEntry":
        """The entry `to_dict` wrote (a manifest of this FORMAT)."""
        signature = Signature.from_dict({f.name: data[f.name] for f in fields(Signature)})
        return cls(data["name"], data["description"], data["file"],
                   Size(data["bytes"], data["gzip_bytes"], data["brotli_bytes"]), data["accuracy"], data["params"],
                   data["nonzero_params"], data["latency_ms"], signature, data["runtime"], data.get("runtime_reason"),
                   data.get("quantized", False), data.get("compiled"), data.get("browser"), data.get("first_visit"))


def samples_entry(count: int, source: str, levels: int = gallery.EXACT) -> dict:
    """The gallery's record: `source` says where the digits come from and, when they have fewer than 256 grey
    levels (gallery.py), how many: "Classify all" then scores the model on a likeness of the real digits."""
    pixels = "uint8, white digit on black" + ("" if levels == gallery.EXACT else
                                              f", each the nearest of {levels} grey levels round(i * 255 / {levels - 1})")
    return {
        "file": SAMPLES_FILE,
        "count": count,
        "source": source,
        "levels": levels,
        "format": "count uint8 labels; count boxes around each digit's ink (uint8 top, left, height, width); "
                  f"then each box's pixels, row by row ({pixels}); the rest of each 28x28 is 0",
    }


def samples_bytes(images: np.ndarray, labels: np.ndarray) -> bytes:
    """samples.bin as samples_entry's format says: the exact pixels, without the black around each digit's ink
    (about 5% fewer bytes after brotli than the whole 28x28 images)."""
    images = images.reshape(-1, 28, 28).astype(np.uint8)
    boxes, inside = [], []
    for image in images:
        ys, xs = np.nonzero(image)
        top, left = (int(ys.min()), int(xs.min())) if len(ys) else (0, 0)
        height, width = (int(ys.max()) + 1 - top, int(xs.max()) + 1 - left) if len(ys) else (0, 0)
        boxes.append(bytes([top, left, height, width]))
        inside.append(image[top:top + height, left:left + width].tobytes())
    return labels.astype(np.uint8).tobytes() + b"".join(boxes) + b"".join(inside)


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


SETTLE_ROUNDS = 12  # the rounds of rendering the bundle's sizes into its own manifest and page


def embed(page: str, manifest: dict) -> str:
    """The page's HTML with its copy of `manifest` inside it (pagecopy.py), and its model picker's cards, its
    footer's sizes and its gallery's grey levels rendered from the whole record."""
    page = picker.fill(inline.element(page, "manifest", page_copy(manifest)), manifest)
    return gallery.fill(footer.fill(page, manifest), manifest)


def write(dist: str | os.PathLike, manifest: dict, files: dict[str, Size] | None = None) -> dict[str, Size]:
    """Write manifest.json and the page's copy inside index.html, each with its .gz and .br (a server would
    otherwise send old ones). Both record the bundle's sizes, index.html's own included, so they are
    rendered until the numbers settle. A compressed size can swing between two values as the digits it records
    change; after two rounds the recorded sizes therefore only grow, and the files settle on the first round whose
    real sizes are at most the recorded ones (an upper bound a few bytes over, never under). `files`: each file's
    sizes by bundle path (None: measured in `dist`); returns them as recorded."""
    dist = Path(dist)
    files = dict(files) if files is not None else transfer.measure(dist)
    page = (dist / PAGE).read_text()
    for round_ in range(SETTLE_ROUNDS):
        _fill_sizes(manifest, files)
        written = {NAME: _write(dist / NAME, render(manifest).encode()),
                   PAGE: _write(dist / PAGE, embed(page, manifest).encode())}
        if all(files.get(name) == size for name, size in written.items()):
            return files
        if round_ >= 2 and all(name in files and _at_most(size, files[name]) for name, size in written.items()):
            return files
        files.update(written if round_ < 2 else {n: _larger(files.get(n), s) for n, s in written.items()})
    raise BundleError(f"the bundle's own sizes did not settle in {SETTLE_ROUNDS} rounds; run bundle again")


def _at_most(size: Size, bound: Size) -> bool:
    return size.raw <= bound.raw and size.gzip <= bound.gzip and size.brotli <= bound.brotli


def _larger(old: Size | None, new: Size) -> Size:
    return new if old is None else Size(max(old.raw, new.raw), max(old.gzip, new.gzip), max(old.brotli, new.brotli))


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
