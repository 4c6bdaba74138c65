"""What every kernel generator shares: attributes, output tensors, loops over broadcast shapes, C literals."""

from __future__ import annotations

from typing import Callable

import numpy as np
import onnx

from edgeshrink.core.graph import attributes
from edgeshrink.errors import UnsupportedModel
from edgeshrink.runtime.program import Program, Tensor

# A kernel generator: C statements computing the node's outputs (or "" when it only aliases memory).
Emitter = Callable[[onnx.NodeProto, Program], str]


def attr(node: onnx.NodeProto, name: str, default=None):
    return attributes(node).get(name, default)


def inputs(node: onnx.NodeProto, prog: Program) -> list[Tensor | None]:
    """The node's input tensors, None for an omitted optional input."""
    return [prog[name] if name else None for name in node.input]


def output(node: onnx.NodeProto, prog: Program, shape=None, dtype=None, index: int = 0) -> Tensor:
    """The node's output tensor; `shape`/`dtype` declare it when onnxruntime recorded none."""
    name = node.output[index]
    if prog.has(name):
        return prog[name]
    if shape is None:
        raise UnsupportedModel(f"{node.op_type} output {name} has no static shape")
    return prog.define(name, shape, dtype)


def unsupported(node: onnx.NodeProto, why: str) -> UnsupportedModel:
    return UnsupportedModel(f"operator {node.op_type} ({node.name or node.output[0]}) {why}")


def flit(x: float) -> str:
    """An exact C float literal."""
    x = float(np.float32(x))
    if np.isnan(x):
        return "__builtin_nanf(\"\")"
    if np.isinf(x):
        return "__builtin_inff()" if x > 0 else "(-__builtin_inff())"
    return f"{x.hex()}f"


def array_init(values: np.ndarray) -> str:
    """A C initializer list for small per-channel tables (scales, zero points)."""
    values = np.asarray(values).reshape(-1)
    if values.dtype.kind == "f":
        return "{" + ", ".join(flit(v) for v in values) + "}"
    return "{" + ", ".join(str(int(v)) for v in values) + "}"


def strides(shape) -> list[int]:
    out, acc = [], 1
    for d in reversed(shape):
        out.append(acc)
        acc *= d
    return out[::-1]


def broadcast_loops(out_shape, in_shapes, body: Callable[[list[str], str], str]) -> str:
    """Nested loops over `out_shape`; `body(offsets, out_offset)` gets each input's C offset expression
    (numpy broadcasting: a dimension of 1 repeats) and the output's."""
    rank = len(out_shape)
    idx = [f"i{k}" for k in range(rank)]
    offsets = []
    for shape in in_shapes:
        shape = (1,) * (rank - len(shape)) + tuple(shape)
        st = strides(shape)
        terms = [f"{idx[k]}*{st[k]}" for k in range(rank) if shape[k] != 1]
        offsets.append(" + ".join(terms) or "0")
    ost = strides(out_shape)
    out_off = " + ".join(f"{idx[k]}*{ost[k]}" for k in range(rank)) or "0"
    code = body(offsets, out_off)
    for k in reversed(range(rank)):
        code = f"for (int {idx[k]} = 0; {idx[k]} < {out_shape[k]}; {idx[k]}++) {{ {code} }}"
    return code


def scalar(prog: Program, name: str, what: str, node: onnx.NodeProto) -> np.ndarray:
    """A constant input (scale, zero point) the generated code bakes in."""
    value = prog.const(name)
    if value is None:
        raise unsupported(node, f"needs a constant {what}")
    return value


def copy(dst: str, src: str, count: int, ctype: str) -> str:
    return f"__builtin_memcpy({dst}, {src}, {count} * sizeof({ctype}));"
