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
    if top == 0:
        return False
    codes = w / np.float32(top / INT8_LEVELS)
    return bool(np.abs(codes - np.round(codes)).max() < 1e-3)


def to_grid(values: np.ndarray) -> np.ndarray:
    """`values` rounded to the int8 grid of their own range (multiples of max|values| / 127)."""
    top = float(np.abs(values).max())
    if top == 0:
        return values.astype(np.float32)
    step = np.float32(top / INT8_LEVELS)
    return (np.round(values / step) * step).astype(np.float32)
