"""Which runtime runs each variant in the page: the runtime compiled for the model where it covers the
model, else onnxruntime-web with the reason recorded (never a silent switch)."""

from __future__ import annotations

from dataclasses import dataclass, field

import onnx

from edgeshrink import engine
from edgeshrink.core import model as model_io
from edgeshrink.errors import BundleError
from edgeshrink.web.assemble.manifest import Variant

RUNTIMES = ("compiled", "ort")


@dataclass(frozen=True)
class Placement:
    """A variant and the runtime that runs it in the page."""

    variant: Variant
    runtime: str  # one of RUNTIMES
    reason: str | None = None  # why onnxruntime-web runs a variant the compiled runtime was asked for
    files: dict[str, bytes] = field(default_factory=dict)  # the compiled runtime's files, by name
    entry: str | None = None  # the compiled runtime's ES module (for tools and Node; the page runs the wasm itself)
    quantized: bool = False  # int8 arithmetic where it runs: its scores must be bit-identical to exact arithmetic
    shape: dict | None = None  # the compiled module's batch and one image's input and output (type, length)


def place(variant: Variant, proto: onnx.ModelProto, wanted: str, build: str = "page") -> Placement:
    """Compile `variant` (its model read as `proto`) as `build` (runtime.compiler.BUILDS) when `wanted` is
    'compiled', unless the variant carries its page's module already; onnxruntime-web with the compiler's reason
    when it cannot."""
    if wanted not in RUNTIMES:
        raise BundleError(f"unknown runtime {wanted!r}; choose one of {', '.join(RUNTIMES)}")
    if wanted == "ort":
        return Placement(variant, "ort", quantized=_integer(proto))
    from edgeshrink.runtime import UnsupportedModel, compile_model

    try:
        known = variant.compiled if build == "page" else None  # compiled for a page (the frontier's search)
        compiled = known or compile_model(proto, variant.signature, build=build)
    except UnsupportedModel as exc:
        return Placement(variant, "ort", reason=str(exc), quantized=_integer(proto))
    return Placement(variant, "compiled", None, dict(compiled.files), compiled.entry, compiled.exact,
                     shape=compiled.shape)


def _integer(proto) -> bool:
    """Whether onnxruntime(-web) runs integer products for the model (not int8 weights folded back to float)."""
    return model_io.is_quantized(proto) and engine.integer_arithmetic(proto)
