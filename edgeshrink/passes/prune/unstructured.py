"""Unstructured magnitude pruning: zero the smallest weights of Conv, Gemm and MatMul layers."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import numpy_helper

from edgeshrink.core.graph import Graph
from edgeshrink.core.model import clone


def prunable(model: onnx.ModelProto, class_output: str) -> list[str]:
    """Initializers holding the weights of every weight layer but the output layer."""
    g = Graph(model)
    skip = {layer.output[0] for layer in g.score_layers(class_output)}
    names = []
    for node in g.weight_layers():
        root = g.root(node.input[1])
        if node.output[0] not in skip and root not in names:
            names.append(root)
    return names


def _keep_largest(magnitudes: np.ndarray, sparsity: float) -> np.ndarray:
    """A mask that is False for the round(sparsity * n) smallest magnitudes (ties: first come)."""
    keep = np.ones(magnitudes.size, dtype=bool)
    keep[np.argsort(magnitudes, kind="stable")[:int(round(sparsity * magnitudes.size))]] = False
    return keep


def masks(model: onnx.ModelProto, names: list[str], sparsity: float, scope: str) -> dict[str, np.ndarray]:
    """Initializer name -> boolean mask of the weights to keep (per layer, or one global threshold)."""
    inits = {init.name: init for init in model.graph.initializer}
    weights = {name: numpy_helper.to_array(inits[name]) for name in names}
    if scope == "layer":
        return {name: _keep_largest(np.abs(w).ravel(), sparsity).reshape(w.shape) for name, w in weights.items()}
    keep = _keep_largest(np.concatenate([np.abs(w).ravel() for w in weights.values()]), sparsity)
    found, start = {}, 0
    for name, w in weights.items():
        found[name] = keep[start:start + w.size].reshape(w.shape)
        start += w.size
    return found


def apply(model: onnx.ModelProto, keep: dict[str, np.ndarray]) -> onnx.ModelProto:
    """A copy of `model` with every masked-out weight set to zero."""
    out = clone(model)
    for init in out.graph.initializer:
        if init.name in keep:
            array = numpy_helper.to_array(init)
            init.CopyFrom(numpy_helper.from_array(np.where(keep[init.name], array, 0).astype(array.dtype), init.name))
    return out
