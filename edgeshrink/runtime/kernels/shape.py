"""Operators that move data without arithmetic: views (Reshape, Flatten, Squeeze, Unsqueeze, Identity,
Dropout) share memory; Transpose, Concat and Pad copy."""

from __future__ import annotations

import numpy as np

from edgeshrink.runtime.kernels.base import attr, copy, flit, inputs, output, strides, unsupported


def emit_view(node, prog) -> str:
    if len(node.output) > 1 and node.output[1]:
        raise unsupported(node, "with a mask output")
    x = inputs(node, prog)[0]
    y = output(node, prog, _view_shape(node, prog, x), x.dtype)
    if y.size != x.size:
        raise unsupported(node, f"changes the element count {x.shape} -> {y.shape}")
    prog.alias(y.name, x.name)
    return ""


def _view_shape(node, prog, x):
    """The output shape when onnxruntime recorded none (only Flatten is easy to know here)."""
    if node.op_type == "Flatten":
        axis = attr(node, "axis", 1) % max(len(x.shape), 1)
        return (int(np.prod(x.shape[:axis], dtype=np.int64)), int(np.prod(x.shape[axis:], dtype=np.int64)))
    if node.op_type in ("Identity", "Dropout"):
        return x.shape
    return None


def emit_transpose(node, prog) -> str:
    x = inputs(node, prog)[0]
    perm = attr(node, "perm", list(reversed(range(len(x.shape)))))
    y = output(node, prog, tuple(x.shape[p] for p in perm), x.dtype)
    xst = strides(x.shape)
    idx = [f"i{k}" for k in range(len(perm))]
    src = " + ".join(f"{idx[k]}*{xst[perm[k]]}" for k in range(len(perm))) or "0"
    code = f"{prog.ptr(y.name)}[o++] = {prog.ptr(x.name)}[{src}];"
    for k in reversed(range(len(perm))):
        code = f"for (int {idx[k]} = 0; {idx[k]} < {y.shape[k]}; {idx[k]}++) {{ {code} }}"
    return f"{{ int o = 0; {code} }}"


def emit_concat(node, prog) -> str:
    parts = [t for t in inputs(node, prog) if t is not None and t.size]
    y = output(node, prog)
    axis = attr(node, "axis") % len(y.shape)
    outer = int(np.prod(y.shape[:axis], dtype=np.int64))
    row = int(np.prod(y.shape[axis:], dtype=np.int64))
    code, offset = [], 0
    for t in parts:
        chunk = int(np.prod(t.shape[axis:], dtype=np.int64))
        code.append(f"for (int r = 0; r < {outer}; r++) "
                    + copy(f"{prog.ptr(y.name)} + r*{row} + {offset}", f"{prog.ptr(t.name)} + r*{chunk}", chunk, y.ctype))
        offset += chunk
    return " ".join(code)


def emit_pad(node, prog) -> str:
    x = inputs(node, prog)[0]
    y = output(node, prog)
    if attr(node, "mode", "constant") != "constant":
        raise unsupported(node, f"with mode {attr(node, 'mode')}")
    pads = attr(node, "pads") if attr(node, "pads") is not None else prog.const(node.input[1])
    if pads is None or (len(node.input) > 3 and node.input[3]):
        raise unsupported(node, "with computed pads or axes")
    pads = [int(p) for p in pads]
    value = attr(node, "value", 0.0)
    if len(node.input) > 2 and node.input[2]:
        value = float(prog.const(node.input[2]).reshape(-1)[0])
    if min(pads) < 0:
        raise unsupported(node, "with negative pads")
    rank = len(x.shape)
    fill = flit(value) if y.dtype.kind == "f" else str(int(value))
    yst, xst = strides(y.shape), strides(x.shape)
    idx = [f"i{k}" for k in range(rank)]
    dst = " + ".join(f"({idx[k]} + {pads[k]})*{yst[k]}" for k in range(rank)) or "0"
    src = " + ".join(f"{idx[k]}*{xst[k]}" for k in range(rank)) or "0"
    code = f"{prog.ptr(y.name)}[{dst}] = {prog.ptr(x.name)}[{src}];"
    for k in reversed(range(rank)):
        code = f"for (int {idx[k]} = 0; {idx[k]} < {x.shape[k]}; {idx[k]}++) {{ {code} }}"
    return f"for (int i = 0; i < {y.size}; i++) {prog.ptr(y.name)}[i] = {fill}; {code}"


KERNELS = {("", op): emit_view for op in ("Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout")}
KERNELS |= {("", "Transpose"): emit_transpose, ("", "Concat"): emit_concat, ("", "Pad"): emit_pad}
