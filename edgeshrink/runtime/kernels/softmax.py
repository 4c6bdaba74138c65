"""Softmax and LogSoftmax over the last axis (or the coerced 2-D rows before opset 13), as MLAS computes them."""

from __future__ import annotations

import numpy as np

from edgeshrink.runtime.kernels.base import attr, inputs, output, unsupported


def _opset(prog) -> int:
    return next((o.version for o in prog.model.opset_import if o.domain in ("", "ai.onnx")), 13)


def emit_softmax(node, prog) -> str:
    x = inputs(node, prog)[0]
    y = output(node, prog, x.shape, x.dtype)
    if x.dtype != np.float32:
        raise unsupported(node, f"on {x.dtype}")
    rank = len(x.shape)
    legacy = _opset(prog) < 13
    axis = attr(node, "axis", 1 if legacy else -1) % max(rank, 1)
    cols = int(np.prod(x.shape[axis:], dtype=np.int64))
    if not legacy and any(d != 1 for d in x.shape[axis + 1:]):
        raise unsupported(node, f"over axis {axis} of {x.shape} (only the last axis)")
    rows = x.size // max(cols, 1)
    log = int(node.op_type == "LogSoftmax")
    return (f"for (int r = 0; r < {rows}; r++) rt_softmax({prog.ptr(x.name)} + r*{cols},"
            f" {prog.ptr(y.name)} + r*{cols}, {cols}, {log});")


KERNELS = {("", "Softmax"): emit_softmax, ("", "LogSoftmax"): emit_softmax}
