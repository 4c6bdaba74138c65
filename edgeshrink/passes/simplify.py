"""Simplify: onnx-simplifier's constant folding, shape inference and dead-code removal."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

import onnx

from edgeshrink.core.model import clone, describe
from edgeshrink.errors import PassError
from edgeshrink.params import param
from edgeshrink.passes.base import PassContext, PassSpec, restore_interface

MAX_CHECKS = 100


@dataclass(frozen=True)
class SimplifyConfig:
    """How much onnx-simplifier checks and fuses."""

    check_n: int = param(1, f"random-input runs comparing simplified and original outputs, 0 to {MAX_CHECKS} "
                            "(0: trust onnx-simplifier)")
    fuse_bn: bool = param(True, "fold BatchNormalization into the Conv before it")

    def __post_init__(self):
        if isinstance(self.check_n, bool) or not isinstance(self.check_n, int):
            raise ValueError(f"check_n must be a whole number, not {self.check_n!r}")
        if not 0 <= self.check_n <= MAX_CHECKS:
            raise ValueError(f"check_n must be between 0 and {MAX_CHECKS}, not {self.check_n}")


def run(model: onnx.ModelProto, cfg: SimplifyConfig, ctx: PassContext) -> onnx.ModelProto:
    """A simplified copy of `model`: same inputs (dynamic batch kept dynamic), outputs and metadata."""
    import onnxsim

    source = clone(model)  # onnxsim edits some models in place
    name = describe(model)
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # onnxsim prints its checks
            # No input shapes: passing them would pin a dynamic batch dimension to a number.
            simplified, ok = onnxsim.simplify(
                source, check_n=cfg.check_n, skip_fuse_bn=not cfg.fuse_bn, certify=False
            )
    except Exception as exc:  # onnxsim raises RuntimeError, ValueError, onnx errors...
        first = (str(exc).strip().splitlines() or [""])[0]
        raise PassError(f"onnx-simplifier failed on {name}: {type(exc).__name__}: {first}") from exc
    if not ok:
        raise PassError(
            f"onnx-simplifier could not verify {name}: its outputs differ from the original's on random "
            "inputs; leave simplify out of the recipe or set check_n: 0"
        )
    return restore_interface(simplified, model, "onnx-simplifier", name)


SPEC = PassSpec(
    name="simplify",
    config=SimplifyConfig,
    run=run,
    summary="fold constants, infer shapes and drop dead nodes with onnx-simplifier",
    float_only=True,  # onnx-simplifier folds int8 weights back to float (onnxsim issue 216)
    tried_on_int8=True,  # dead-code removal and QDQ-keeping clean-ups still help an int8 model
)
