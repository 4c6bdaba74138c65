"""manifest.json: what a bundle holds, read by the page, by `verify` and by people."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from edgeshrink.atomic import write_bytes, write_text
from edgeshrink.errors import BundleError
from edgeshrink.signature import Preprocess, Signature
from edgeshrink.size import Size

FORMAT = 2  # 2: a runtime per variant, .br/.gz beside each file, first-visit sizes
NAME = "manifest.json"
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


def write(dist: str | os.PathLike, manifest: dict) -> Path:
    """Rewrite manifest.json and its .gz and .br (the server would otherwise send the old ones)."""
    from edgeshrink.web.compress import compress

    text = render(manifest)
    path = write_text(Path(dist) / NAME, text)
    for suffix, data in zip((".gz", ".br"), compress(text.encode())):
        write_bytes(path.with_name(NAME + suffix), data).chmod(0o644)
    path.chmod(0o644)  # a web server running as another user must be able to read it
    return path
