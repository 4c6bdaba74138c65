"""Weight-only int8: each weight stored as int8 codes and a DequantizeLinear, activations left float.

No calibration and no Q/DQ pairs around activations: the file holds one int8 byte per weight plus a
scale, and every runtime that runs DequantizeLinear (onnxruntime CPU and web, edgeshrink's compiled
runtime) runs it. A weight whose values already lie on one int8 grid (what `cluster` leaves) gets
that grid's single scale, so each shared value keeps one code; others get a scale per output channel. Layers
that all lie on one grid (cluster's `one_grid`) share one scale, which the file stores once.

A layer's float bias goes behind a DequantizeLinear too, as int32 multiples of its weight's scale (the
convention of int8 biases, at the weight's scale alone): each bias moves by at most half a weight step, and
its few significant bytes cost less than a float's four after gzip and brotli (micro `small`: 3,253 -> 3,091 B
gzip'd, 2,957 -> 2,743 B brotli, 99.05% on the 10,000 test images both).
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

from edgeshrink.core.model import clone
from edgeshrink.passes.int8grid import INT8_LEVELS, common_grid, on_int8_grid, weight_axes
from edgeshrink.passes.quantize import surgery

ONE_SCALE = "weights_scale"  # the scale every layer's DequantizeLinear reads when they share one grid


def _on_grid(w: np.ndarray, step: np.float32) -> np.ndarray:
    """The int8 codes of `w` on the grid of `step`."""
    return np.clip(np.round(w / step), -INT8_LEVELS, INT8_LEVELS).astype(np.int8)


def _codes(w: np.ndarray, axis: int, per_channel: bool) -> tuple[np.ndarray, np.ndarray, int | None]:
    """(int8 codes, scale, axis of the scale or None for one scale)."""
    if on_int8_grid(w) or not per_channel:
        scale = np.float32(max(float(np.abs(w).max()), 1e-12) / INT8_LEVELS)
        return _on_grid(w, scale), np.array(scale), None
    top = np.abs(np.moveaxis(w, axis, 0)).reshape(w.shape[axis], -1).max(axis=1)
    scales = (np.maximum(top, 1e-12) / INT8_LEVELS).astype(np.float32)
    shape = [1] * w.ndim
    shape[axis] = -1
    codes = np.clip(np.round(w / scales.reshape(shape)), -INT8_LEVELS, INT8_LEVELS).astype(np.int8)
    return codes, scales, axis


def _biases(model: onnx.ModelProto, axes: dict[str, int]) -> dict[str, str]:
    """weight -> the float bias initializer of its layer, where that layer alone reads both."""
    readers: dict[str, int] = {}
    for node in model.graph.node:
        for name in node.input:
            readers[name] = readers.get(name, 0) + 1
    floats = {i.name for i in model.graph.initializer if i.data_type == onnx.TensorProto.FLOAT and len(i.dims) == 1}
    return {node.input[1]: node.input[2] for node in model.graph.node
            if node.op_type in ("Conv", "Gemm") and len(node.input) > 2 and node.input[1] in axes
            and node.input[2] in floats and readers[node.input[1]] == readers[node.input[2]] == 1}


def _bias_multiples(bias: np.ndarray, scale: np.ndarray) -> np.ndarray | None:
    """The bias as int32 multiples of its weight's scale (one, or one per output channel), or None where they
    would not stay exact in float (beyond 2^24) or the scales do not match the bias's channels."""
    if scale.size not in (1, bias.size) or not np.all(scale > 0):
        return None
    multiples = np.round(bias.astype(np.float64) / scale.astype(np.float64))
    return multiples.astype(np.int32) if np.abs(multiples).max(initial=0) < 2 ** 24 else None


def quantize(model: onnx.ModelProto, per_channel: bool) -> onnx.ModelProto:
    """A copy of `model` whose Conv/Gemm/MatMul weights are int8 codes behind a DequantizeLinear (their
    biases int32 multiples of the same scale, where `_bias_multiples` allows)."""
    out = surgery.upgrade(clone(model))  # DequantizeLinear's axis needs opset 13
    axes = weight_axes(out)
    biases = _biases(out, axes)
    inits = {init.name: init for init in out.graph.initializer}
    kept, added = [], []
    arrays = {name: numpy_helper.to_array(inits[name]) for name in axes}
    common = common_grid(list(arrays.values()))
    if common is not None:
        kept.append(numpy_helper.from_array(np.array(common), ONE_SCALE))
    for init in out.graph.initializer:
        if init.name in biases.values():
            continue  # written with its weight
        if init.name not in axes:
            kept.append(init)
            continue
        w, q, s = arrays[init.name], f"{init.name}_q", f"{init.name}_s"
        if common is None:
            codes, scale, axis = _codes(w, axes[init.name], per_channel)
            kept += [numpy_helper.from_array(codes, q), numpy_helper.from_array(scale, s)]  # this order packs best
        else:
            codes, scale, axis, s = _on_grid(w, common), np.array(common), None, ONE_SCALE
            kept.append(numpy_helper.from_array(codes, q))
        attrs = {"axis": axis} if axis is not None else {}
        added.append(helper.make_node("DequantizeLinear", [q, s], [init.name], **attrs))
        bias = biases.get(init.name)
        if bias is None:
            continue
        multiples = _bias_multiples(numpy_helper.to_array(inits[bias]), scale)
        if multiples is None:
            kept.append(inits[bias])
            continue
        kept.append(numpy_helper.from_array(multiples, f"{bias}_q"))
        attrs = {"axis": 0} if axis is not None else {}  # a bias is one value per output channel
        added.append(helper.make_node("DequantizeLinear", [f"{bias}_q", s], [bias], **attrs))
    del out.graph.initializer[:]
    out.graph.initializer.extend(kept)
    nodes = added + list(out.graph.node)
    del out.graph.node[:]
    out.graph.node.extend(nodes)
    return out
