"""Add, Sub, Mul, Div with numpy broadcasting; Cast between the runtime's dtypes."""

from __future__ import annotations

import numpy as np

from edgeshrink.runtime.kernels.base import broadcast_loops, inputs, output, unsupported

_OPS = {"Add": "+", "Sub": "-", "Mul": "*", "Div": "/"}


def emit_binary(node, prog) -> str:
    a, b = inputs(node, prog)[:2]
    y = output(node, prog, np.broadcast_shapes(a.shape, b.shape), a.dtype)
    if a.dtype != b.dtype or a.dtype.kind not in "fi":
        raise unsupported(node, f"on {a.dtype} and {b.dtype}")
    if a.dtype.kind == "i" and node.op_type == "Div":
        raise unsupported(node, "on integers (C and onnxruntime round differently)")
    pa, pb, py = prog.ptr(a.name), prog.ptr(b.name), prog.ptr(y.name)
    sym = _OPS[node.op_type]
    return broadcast_loops(y.shape, [a.shape, b.shape],
                           lambda off, o: f"{py}[{o}] = {pa}[{off[0]}] {sym} {pb}[{off[1]}];")


def emit_cast(node, prog) -> str:
    x = inputs(node, prog)[0]
    y = output(node, prog)
    if y.dtype == np.bool_ or x.dtype == np.bool_:
        raise unsupported(node, "to or from bool")
    return (f"for (int i = 0; i < {x.size}; i++) {prog.ptr(y.name)}[i] = "
            f"({y.ctype}){prog.ptr(x.name)}[i];")


KERNELS = {("", op): emit_binary for op in _OPS} | {("", "Cast"): emit_cast}
