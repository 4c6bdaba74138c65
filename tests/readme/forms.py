"""The session's small CNN in other input forms the README promises to take: three grey channels (NHWC3),
float64 pixels, a batch fixed at B. Each wraps the same graph, so each must score exactly like it."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from edgeshrink.core import model as model_io


def _rewired(path, name: str, elem: int, shape: list, nodes: list, inits=()) -> onnx.ModelProto:
    """The model at `path` fed through `nodes` from a new input `x`; they must write the old input's name."""
    proto = model_io.load(path)
    old = proto.graph.input[0]
    new = helper.make_tensor_value_info("x", elem, shape)
    proto.graph.input.remove(old)
    proto.graph.input.insert(0, new)
    for i, node in enumerate(nodes):
        proto.graph.node.insert(i, node)
    proto.graph.initializer.extend(inits)
    proto.graph.name = name
    del proto.metadata_props[:]  # the stored signature names the old input; the preprocessing is re-given
    onnx.checker.check_model(proto)
    return proto


def nhwc3(path) -> onnx.ModelProto:
    """(N, 28, 28, 3): three equal grey channels, the last one read (exactly the grey image), channels first."""
    nodes = [helper.make_node("Slice", ["x", "start", "end", "axis"], ["grey"]),
             helper.make_node("Transpose", ["grey"], ["input"], perm=[0, 3, 1, 2])]
    consts = [numpy_helper.from_array(np.array([v], np.int64), name) for name, v in (("start", 2), ("end", 3), ("axis", 3))]
    return _rewired(path, "nhwc3", TensorProto.FLOAT, ["N", 28, 28, 3], nodes, consts)


def float64(path) -> onnx.ModelProto:
    """(N, 1, 28, 28) float64 pixels, cast to float32 inside the graph."""
    nodes = [helper.make_node("Cast", ["x"], ["input"], to=TensorProto.FLOAT)]
    return _rewired(path, "float64", TensorProto.DOUBLE, ["N", 1, 28, 28], nodes)


def fixed_batch(path, batch: int) -> onnx.ModelProto:
    """The same graph with its batch fixed at `batch` (as exporters write it from a dummy input)."""
    nodes = [helper.make_node("Identity", ["x"], ["input"])]
    return _rewired(path, f"batch{batch}", TensorProto.FLOAT, [batch, 1, 28, 28], nodes)
