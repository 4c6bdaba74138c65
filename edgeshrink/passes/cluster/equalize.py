"""Cross-layer equalization: the same function, with every weight layer's output channels spanning like ranges.

A ReLU network computes the same function when one output channel c of a Conv is divided by s > 0 (its weights
and bias) and the next Conv's weights reading channel c are multiplied by s, because ReLU, max and average
pooling commute with a positive scale. With s = sqrt(r1 / r2), r1 the range (max |w|) of channel c in the first
layer and r2 the range of the weights that read it in the second, both end at sqrt(r1 * r2) (Nagel et al. 2019,
"Data-Free Quantization through Weight Equalization and Bias Correction", section 4.1); sweeps over every such
pair until the scales settle.

Folding BatchNorm can leave one channel of a layer far wider than the rest (a channel of small variance gets a
large gamma / sigma): one per-tensor codebook and int8 grid then spend their values on that channel, and the
others round to a few values or to zero. Equalized, the codebook covers every channel.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import numpy_helper

from edgeshrink.core.graph import Graph, attributes

# per-channel operators that commute with a positive per-channel scale: f(s * x) = s * f(x)
POSITIVE_HOMOGENEOUS = {"Relu", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Identity"}
SWEEPS = 50
SETTLED = 1e-4  # the largest |log s| of a sweep that ends the sweeps


def pairs(g: Graph) -> list[tuple[onnx.NodeProto, onnx.NodeProto]]:
    """(Conv A, Conv B): B reads A's output alone, through positive-homogeneous operators only, and each weight
    and bias initializer is read by its layer only."""
    found = []
    for a in g.graph.node:
        if not _own_weights(g, a):
            continue
        name, b = a.output[0], None
        while True:
            reader = g.sole_reader(name)
            if reader is None:
                break
            if reader.op_type == "Conv" and reader.input[0] == name:
                b = reader
                break
            if reader.op_type not in POSITIVE_HOMOGENEOUS or len(reader.output) != 1:
                break
            name = reader.output[0]
        if b is not None and _own_weights(g, b):
            found.append((a, b))
    return found


def _own_weights(g: Graph, node: onnx.NodeProto) -> bool:
    """A float Conv whose weight (and bias, if any) are initializers no other node reads."""
    if node.op_type != "Conv" or len(node.input) < 2:
        return False
    for name in node.input[1:3]:
        if not name:
            continue
        init = g.inits.get(name)
        if init is None or init.data_type != onnx.TensorProto.FLOAT or len(g.consumers.get(name, [])) != 1:
            return False
    return True


def _input_slices(w: np.ndarray, group: int) -> list[tuple[slice, int]]:
    """Per input channel of a Conv weight (out, in / group, ...): the rows and the column that read it."""
    per_in, per_out = w.shape[1], w.shape[0] // group
    return [(slice(c // per_in * per_out, (c // per_in + 1) * per_out), c % per_in) for c in range(per_in * group)]


def equalize(model: onnx.ModelProto) -> tuple[onnx.ModelProto, int]:
    """`model` (changed in place and returned) with its Conv pairs equalized, and how many pairs there were."""
    g = Graph(model)
    found = pairs(g)
    if not found:
        return model, 0
    weights = {name: numpy_helper.to_array(g.inits[name]).astype(np.float64)
               for a, b in found for name in (*a.input[1:3], b.input[1]) if name}
    for _ in range(SWEEPS):
        moved = 0.0
        for a, b in found:
            wa, wb = weights[a.input[1]], weights[b.input[1]]
            slices = _input_slices(wb, int(attributes(b).get("group", 1)))
            if len(slices) != wa.shape[0]:
                continue
            r1 = np.abs(wa.reshape(wa.shape[0], -1)).max(axis=1)
            r2 = np.array([np.abs(wb[rows, col]).max() for rows, col in slices])
            s = np.where((r1 > 0) & (r2 > 0), np.sqrt(r1 / np.where(r2 > 0, r2, 1)), 1.0)
            wa /= s.reshape(-1, *[1] * (wa.ndim - 1))
            if len(a.input) > 2 and a.input[2]:
                weights[a.input[2]] /= s
            for (rows, col), sc in zip(slices, s):
                wb[rows, col] *= sc
            moved = max(moved, float(np.abs(np.log(s)).max()))
        if moved < SETTLED:
            break
    for name, w in weights.items():
        g.inits[name].CopyFrom(numpy_helper.from_array(w.astype(np.float32), name))
    return model, len(found)
