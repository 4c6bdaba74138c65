"""Small hand-built ONNX graphs for testing shapes and errors (not MNIST classifiers of any quality)."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def linear_classifier(input_shape=("N", 784), outputs=1, classes=10, dtype=TensorProto.FLOAT, inputs=1, seed=0):
    """Flatten -> MatMul -> Add, with `outputs` copies of the class scores and `inputs` image inputs."""
    rng = np.random.default_rng(seed)
    w = numpy_helper.from_array(rng.normal(0, 0.01, (784, classes)).astype(np.float32), "w")
    b = numpy_helper.from_array(np.zeros(classes, np.float32), "b")
    shape = numpy_helper.from_array(np.array([-1 if len(input_shape) > 1 and input_shape[0] != 3 else 1, 784], np.int64), "shape")
    nodes = [helper.make_node("Reshape", ["x0", "shape"], ["flat"])]
    if dtype != TensorProto.FLOAT:
        nodes.append(helper.make_node("Cast", ["flat"], ["flatf"], to=TensorProto.FLOAT))
    src = "flatf" if dtype != TensorProto.FLOAT else "flat"
    nodes += [helper.make_node("MatMul", [src, "w"], ["mm"]), helper.make_node("Add", ["mm", "b"], ["y0"])]
    nodes += [helper.make_node("Identity", ["y0"], [f"y{i}"]) for i in range(1, outputs)]
    graph_inputs = [helper.make_tensor_value_info(f"x{i}", dtype, list(input_shape)) for i in range(inputs)]
    graph_outputs = [helper.make_tensor_value_info(f"y{i}", TensorProto.FLOAT, ["N", classes]) for i in range(outputs)]
    graph = helper.make_graph(nodes, "linear", graph_inputs, graph_outputs, [w, b, shape])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def save(model: onnx.ModelProto, path) -> str:
    onnx.save(model, str(path))
    return str(path)
