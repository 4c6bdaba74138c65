"""Follow a layer's kept channels downstream and list the constants that must be cut to match."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import onnx

from edgeshrink.core.graph import WEIGHT_OPS, attributes
from edgeshrink.passes.prune.surgery import EditableGraph

# Operators that act on each element alone: channels pass through unchanged.
_ELEMENTWISE = {"Relu", "LeakyRelu", "Sigmoid", "Tanh", "Identity", "Dropout", "Clip", "Cast", "Elu", "Selu",
                "Softplus", "HardSigmoid", "HardSwish", "Neg", "Abs", "Exp", "Sqrt"}
# Operators that work within each channel of an (N, C, ...) tensor.
_PER_CHANNEL = {"MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LpPool"}
_BINARY = {"Add", "Sub", "Mul", "Div"}


class Blocked(Exception):
    """Why a layer's channels cannot be removed safely."""


@dataclass(frozen=True)
class Flow:
    """Channels on their way: of `tensor`'s axis `axis` (length `size`), positions `keep` survive."""

    tensor: str
    axis: int
    keep: np.ndarray
    size: int


@dataclass(frozen=True)
class Slice:
    """Keep positions `keep` along `axis` of the constant read by `node` at input `index`."""

    node: onnx.NodeProto
    index: int
    axis: int
    keep: np.ndarray

    def cut(self, array: np.ndarray) -> np.ndarray:
        return np.take(array, self.keep, axis=self.axis)


@dataclass(frozen=True)
class Replace:
    """Give the constant read by `node` at input `index` a new value (a Reshape's target shape)."""

    node: onnx.NodeProto
    index: int
    value: np.ndarray

    def cut(self, array: np.ndarray) -> np.ndarray:
        return self.value


def _label(node: onnx.NodeProto) -> str:
    return f"{node.op_type} {node.name or node.output[0]!r}"


def rank(g: EditableGraph, name: str) -> int:
    shape = g.shape(name)
    if shape is None:
        raise Blocked(f"the shape of {name!r} is unknown")
    return len(shape)


def _axes(g: EditableGraph, node: onnx.NodeProto) -> list[int] | None:
    if len(node.input) > 1 and node.input[1]:
        value = g.value(node.input[1])
        if value is None:
            raise Blocked(f"{_label(node)} has computed axes")
        return [int(v) for v in value]
    return attributes(node).get("axes")


def _flat(dims: list, start: int, flow: Flow) -> tuple[np.ndarray, int]:
    """Kept positions once dims[start:] (holding the channel axis) are flattened into one axis."""
    if flow.axis < start:
        raise Blocked("a reshape mixes the channels with the batch")
    if any(d is None for d in dims[start:]):
        raise Blocked("a flattened tensor has unknown dimensions")
    outer, inner = math.prod(dims[start:flow.axis]), math.prod(dims[flow.axis + 1:])
    positions = (np.arange(outer)[:, None, None] * flow.size * inner
                 + flow.keep[None, :, None] * inner + np.arange(inner)[None, None, :])
    return positions.reshape(-1), outer * flow.size * inner


def _reshape(g: EditableGraph, node: onnx.NodeProto, flow: Flow) -> tuple[list, list[Flow]]:
    target = g.value(node.input[1])
    dims, out = g.shape(node.input[0]), g.shape(node.output[0])
    if target is None or dims is None or out is None:
        raise Blocked(f"{_label(node)} has a computed or unknown shape")
    start = len(out) - 1  # only flattening the channels with everything after them is followed
    if start > flow.axis or list(out[:start]) != list(dims[:start]):
        raise Blocked(f"{_label(node)} does more than flatten the channels")
    keep, size = _flat(dims, start, flow)
    shape = target.copy()
    if shape[start] != -1:
        shape[start] = len(keep)
    edits = [] if np.array_equal(shape, target) else [Replace(node, 1, shape)]
    return edits, [Flow(node.output[0], start, keep, size)]


def _flatten(g: EditableGraph, node: onnx.NodeProto, flow: Flow) -> tuple[list, list[Flow]]:
    dims = g.shape(node.input[0])
    if dims is None:
        raise Blocked(f"{_label(node)} has an input of unknown shape")
    keep, size = _flat(dims, attributes(node).get("axis", 1) % max(len(dims), 1), flow)
    return [], [Flow(node.output[0], 1, keep, size)]


def _binary(g: EditableGraph, node: onnx.NodeProto, index: int, flow: Flow) -> tuple[list, list[Flow]]:
    const = g.value(node.input[1 - index])
    if const is None:
        raise Blocked(f"{_label(node)} joins its channels with another branch")
    data_rank = rank(g, flow.tensor)
    out_rank = max(data_rank, const.ndim)
    axis = flow.axis + out_rank - data_rank
    const_axis = axis - (out_rank - const.ndim)
    edits = []
    if const_axis >= 0 and const.shape[const_axis] != 1:
        if const.shape[const_axis] != flow.size:
            raise Blocked(f"{_label(node)} has a constant of shape {list(const.shape)}")
        edits.append(Slice(node, 1 - index, const_axis, flow.keep))
    return edits, [Flow(node.output[0], axis, flow.keep, flow.size)]


def _moved(g: EditableGraph, node: onnx.NodeProto, flow: Flow) -> Flow:
    """The flow after Squeeze, Unsqueeze or Transpose moves the channel axis."""
    data_rank = rank(g, flow.tensor)
    if node.op_type == "Transpose":
        perm = list(attributes(node).get("perm", reversed(range(data_rank))))
        return Flow(node.output[0], perm.index(flow.axis), flow.keep, flow.size)
    axes = _axes(g, node)
    if node.op_type == "Unsqueeze":
        inserted = {a % (data_rank + len(axes)) for a in axes}
        remaining = [i for i in range(data_rank + len(axes)) if i not in inserted]
        return Flow(node.output[0], remaining[flow.axis], flow.keep, flow.size)
    if axes is None:
        axes = [i for i, d in enumerate(g.shape(flow.tensor)) if d == 1]
    axes = [a % data_rank for a in axes]
    if flow.axis in axes:
        raise Blocked(f"{_label(node)} removes the channel axis")
    return Flow(node.output[0], flow.axis - sum(a < flow.axis for a in axes), flow.keep, flow.size)


def _pad(g: EditableGraph, node: onnx.NodeProto, flow: Flow) -> tuple[list, list[Flow]]:
    pads = g.value(node.input[1]) if len(node.input) > 1 and node.input[1] else attributes(node).get("pads")
    if pads is None or (len(node.input) > 3 and node.input[3]):
        raise Blocked(f"{_label(node)} has computed pads")
    half = len(pads) // 2
    if pads[flow.axis] or pads[flow.axis + half]:
        raise Blocked(f"{_label(node)} pads the channels")
    return [], [Flow(node.output[0], flow.axis, flow.keep, flow.size)]


def _batch_norm(g: EditableGraph, node: onnx.NodeProto, flow: Flow) -> tuple[list, list[Flow]]:
    if any(g.value(name) is None for name in node.input[1:5]):
        raise Blocked(f"{_label(node)} has computed statistics")
    edits = [Slice(node, i, 0, flow.keep) for i in range(1, 5)]
    return edits, [Flow(node.output[0], 1, flow.keep, flow.size)]


def _consumer(g: EditableGraph, node: onnx.NodeProto, flow: Flow) -> list:
    """The cut of a weight layer's inputs that read the flow (the end of a path)."""
    attrs = attributes(node)
    if g.root(node.input[1]) is None:
        raise Blocked(f"{_label(node)} has a computed weight")
    if node.op_type == "Conv":
        if attrs.get("group", 1) != 1:
            raise Blocked(f"{_label(node)} is a grouped convolution")
        return [Slice(node, 1, 1, flow.keep)]
    if node.op_type == "Gemm":
        if attrs.get("transA", 0) or flow.axis != 1:
            raise Blocked(f"{_label(node)} reads them transposed")
        return [Slice(node, 1, 1 if attrs.get("transB", 0) else 0, flow.keep)]
    if g.value(node.input[1]).ndim != 2 or flow.axis != rank(g, flow.tensor) - 1:
        raise Blocked(f"{_label(node)} is a batched MatMul")
    return [Slice(node, 1, 0, flow.keep)]


def _step(g: EditableGraph, node: onnx.NodeProto, index: int, flow: Flow) -> tuple[list, list[Flow]]:
    """The edits and onward flows of one node reading the flow at input `index`."""
    op, same = node.op_type, Flow(node.output[0], flow.axis, flow.keep, flow.size)
    if op in _BINARY:
        return _binary(g, node, index, flow)
    if index != 0:
        raise Blocked(f"{_label(node)} reads the channels as a parameter")
    if op in _ELEMENTWISE:
        return [], [same]
    if op in _PER_CHANNEL and flow.axis == 1 and rank(g, flow.tensor) >= 3:
        return [], [same]
    if op == "BatchNormalization" and flow.axis == 1:
        return _batch_norm(g, node, flow)
    if op in ("Squeeze", "Unsqueeze", "Transpose"):
        return [], [_moved(g, node, flow)]
    if op == "Shape":
        return [], []  # a shape is read when the model runs, so it follows the cut
    handlers = {"Reshape": _reshape, "Flatten": _flatten, "Pad": _pad}
    if op in handlers:
        return handlers[op](g, node, flow)
    if op in WEIGHT_OPS and (op != "Conv" or flow.axis == 1):
        return _consumer(g, node, flow), []
    raise Blocked(f"{_label(node)} reads its channels")


def follow(g: EditableGraph, start: Flow) -> list:
    """Every edit that keeps the graph consistent once `start`'s channels are cut (raises Blocked)."""
    edits, todo = [], [start]
    while todo:
        flow = todo.pop()
        if flow.tensor in g.outputs:
            raise Blocked(f"its channels reach the graph output {flow.tensor!r}")
        for node, index in g.consumers.get(flow.tensor, []):
            more, onward = _step(g, node, index, flow)
            edits += more
            todo += onward
    return edits
