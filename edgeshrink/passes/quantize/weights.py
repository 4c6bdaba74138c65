"""Weight-only int8: each weight stored as int8 codes and a DequantizeLinear, activations left float.

No calibration and no Q/DQ pairs around activations: the file holds one int8 byte per weight plus a
scale, and every runtime that runs DequantizeLinear (onnxruntime CPU and web, edgeshrink's compiled
runtime) runs it. A weight whose values already lie on one int8 grid (what `cluster` leaves) gets
that grid's single scale, so each shared value keeps one code; others get a scale per output channel.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

from edgeshrink.core.model import clone
from edgeshrink.passes.int8grid import INT8_LEVELS, on_int8_grid, weight_axes
from edgeshrink.passes.quantize import surgery


def _codes(w: np.ndarray, axis: int, per_channel: bool) -> tuple[np.ndarray, np.ndarray, int | None]:
    """(int8 codes, scale, axis of the scale or None for one scale)."""
    if on_int8_grid(w) or not per_channel:
        scale = np.float32(max(float(np.abs(w).max()), 1e-12) / INT8_LEVELS)
        return np.clip(np.round(w / scale), -INT8_LEVELS, INT8_LEVELS).astype(np.int8), np.array(scale), None
    top = np.abs(np.moveaxis(w, axis, 0)).reshape(w.shape[axis], -1).max(axis=1)
    scales = (np.maximum(top, 1e-12) / INT8_LEVELS).astype(np.float32)
    shape = [1] * w.ndim
    shape[axis] = -1
    codes = np.clip(np.round(w / scales.reshape(shape)), -INT8_LEVELS, INT8_LEVELS).astype(np.int8)
    return codes, scales, axis


def quantize(model: onnx.ModelProto, per_channel: bool) -> onnx.ModelProto:
    """A copy of `model` whose Conv/Gemm/MatMul weights are int8 codes behind a DequantizeLinear."""
    out = surgery.upgrade(clone(model))  # DequantizeLinear's axis needs opset 13
    axes = weight_axes(out)
    kept, added = [], []
    for init in out.graph.initializer:
        if init.name not in axes:
            kept.append(init)
            continue
        codes, scale, axis = _codes(numpy_helper.to_array(init), axes[init.name], per_channel)
        q, s = f"{init.name}_q", f"{init.name}_s"
        kept += [numpy_helper.from_array(codes, q), numpy_helper.from_array(scale, s)]
        attrs = {"axis": axis} if axis is not None else {}
        added.append(helper.make_node("DequantizeLinear", [q, s], [init.name], **attrs))
    del out.graph.initializer[:]
    out.graph.initializer.extend(kept)
    nodes = added + list(out.graph.node)
    del out.graph.node[:]
    out.graph.node.extend(nodes)
    return out
