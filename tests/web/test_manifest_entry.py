"""A variant's manifest entry: a dataclass on Signature.to_dict/from_dict, written flat where the page reads it."""

from __future__ import annotations

from pathlib import Path

from edgeshrink.core.signature import PRESETS, Signature
from edgeshrink.size import Size
from edgeshrink.web import Variant
from edgeshrink.web.assemble.manifest import VariantEntry

SIG = Signature("input", "NCHW", None, "float32", PRESETS["mnist"], output_kind="probabilities", output_name="p")


def test_an_entry_is_written_flat_and_read_back():
    variant = Variant("fp32", Path("m.onnx"), SIG, 0.99, 100, 90, None, "a model")
    entry = VariantEntry.of(variant, Size(1000, 800, 700), "compiled", None, False,
                            {"entry": "models/fp32/model.mjs", "wasm": "models/fp32/model.wasm", "inline": True})
    data = entry.to_dict()
    assert list(data) == ["name", "description", "file", "bytes", "gzip_bytes", "brotli_bytes", "accuracy", "params",
                          "nonzero_params", "latency_ms", "input_name", "input_shape", "layout", "batch", "dtype",
                          "preprocess", "output_index", "output_kind", "output_name", "browser", "runtime",
                          "runtime_reason", "quantized", "compiled"]  # the page reads these names
    assert data["input_shape"] == [None, 1, 28, 28] and data["preprocess"] == {"scale": 1 / 255, "mean": 0.1307,
                                                                                "std": 0.3081}
    assert VariantEntry.from_dict(data) == entry
    visited = VariantEntry.from_dict({**data, "first_visit": {"total": 5}})
    assert visited.first_visit == {"total": 5} and list(visited.to_dict())[-1] == "first_visit"
