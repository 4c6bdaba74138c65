"""The symmetric int8 grid that cluster leaves its shared values on and quantize maps to codes: multiples of
max|w| / 127 per weight (or per output channel), and which axis of each weight is its output channel."""

from __future__ import annotations

import numpy as np
import onnx

from edgeshrink.core.graph import Graph, attributes

INT8_LEVELS = 127  # symmetric int8: codes -127..127
_OUTPUT_AXIS = {"Conv": 0, "Gemm": None, "MatMul": 1}  # the output-channel axis of the weight (Gemm: transB)


def weight_axes(model: onnx.ModelProto) -> dict[str, int]:
    """Float initializers that are the weight (input 1) of a Conv, Gemm or MatMul -> output-channel axis."""
    g = Graph(model)
    found: dict[str, int] = {}
    for node in g.weight_layers():
        init = g.inits.get(node.input[1])  # a weight behind a Transpose or Reshape stays as it is
        if init is None or init.data_type != onnx.TensorProto.FLOAT or len(init.dims) < 2:
            continue
        axis = _OUTPUT_AXIS[node.op_type]
        if axis is None:
            axis = 0 if attributes(node).get("transB", 0) else 1
        found[init.name] = axis
    return found


def on_int8_grid(w: np.ndarray) -> bool:
    """Whether the whole tensor's values are multiples of max|w| / 127, as cluster's `snap` leaves them."""
    top = float(np.abs(w).max())
    return top > 0 and on_grid(w, np.float32(top / INT8_LEVELS))


def on_grid(w: np.ndarray, step: np.float32) -> bool:
    """Whether the whole tensor's values are multiples of `step` within -127..127 steps."""
    codes = w / step
    return bool(np.abs(codes - np.round(codes)).max() < 1e-3 and np.abs(codes).max() <= INT8_LEVELS + 1e-3)


def widest_step(weights: list[np.ndarray]) -> np.float32:
    """The step of the int8 grid that spans every tensor of `weights`: the widest one's max|w| / 127 (0 when all
    are zero)."""
    return np.float32(max((float(np.abs(w).max()) for w in weights), default=0.0) / INT8_LEVELS)


def common_grid(weights: list[np.ndarray]) -> np.float32 | None:
    """The step of the one int8 grid (`widest_step`) that every tensor of `weights` lies on, as cluster's
    `one_grid` leaves them; None when they are fewer than two or some tensor lies off it."""
    step = widest_step(weights)
    if len(weights) < 2 or step == 0:
        return None
    return step if all(on_grid(w, step) for w in weights) else None


def to_grid(values: np.ndarray, step: np.float32 | None = None) -> np.ndarray:
    """`values` rounded to the int8 grid of their own range (multiples of max|values| / 127), or of `step`."""
    top = float(np.abs(values).max())
    if top == 0:
        return values.astype(np.float32)
    step = np.float32(top / INT8_LEVELS) if step is None else step
    return (np.round(values / step) * step).astype(np.float32)
