"""A trained net (tests/nets.py) as other exporters write MNIST classifiers, written with onnx.helper.

The peers in ../shared/peers showed these forms; here the tests make them from their own weights, so a test of
one form needs no peer: NHWC input on raw 0..255 pixels (keras2onnx), a features output beside the scores
(a tutorial's export), and PyTorch 2.6's dynamo export of a net without a batch dimension. Each scores exactly
like the net it wraps, given the preprocessing its form implies.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from tests.passes.prune.cases import cnn_graph


def plain(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy without edgeshrink's metadata: someone else's file."""
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    del copy.metadata_props[:]
    return copy


def nhwc_raw255(weights: dict[str, np.ndarray]) -> onnx.ModelProto:
    """The pool CNN (0..1 pixels, NCHW) behind `pixels/255` and a transpose from (N, 28, 28, 1): as Keras
    exports a net trained on raw pixels, so the right preprocessing of this file is none at all."""
    model = plain(cnn_graph(weights))
    graph = model.graph
    graph.input[0].CopyFrom(helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["N", 28, 28, 1]))
    graph.initializer.append(numpy_helper.from_array(np.array(1 / 255, np.float32), "inv255"))
    graph.node.insert(0, helper.make_node("Mul", ["pixels", "inv255"], ["scaled"]))
    graph.node.insert(1, helper.make_node("Transpose", ["scaled"], ["image"], perm=[0, 3, 1, 2]))
    graph.name = "keras_like"
    onnx.checker.check_model(model)
    return model


def two_outputs(weights: dict[str, np.ndarray]) -> onnx.ModelProto:
    """The pool CNN with its flattened features (N, 784) as a second graph output 'hidden', after the scores."""
    model = plain(cnn_graph(weights))
    for node in model.graph.node:
        node.input[:] = ["hidden" if name == "f" else name for name in node.input]
        node.output[:] = ["hidden" if name == "f" else name for name in node.output]
    model.graph.output.append(helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["N", 784]))
    onnx.checker.check_model(model)
    return model


def dynamo_nobatch(weights: dict[str, np.ndarray]) -> onnx.ModelProto:
    """The pool CNN as PyTorch 2.6's dynamo exporter writes a net called on one (1, 28, 28) image: every Conv and
    MaxPool between an Unsqueeze and a Squeeze whose axes are Constant nodes, the fully connected weights
    transposed at run time before MatMul + Add, and a 1-D softmax out."""
    nodes, count = [], iter(range(100))

    def const(value) -> str:
        name = f"const_{next(count)}"
        nodes.append(helper.make_node("Constant", [], [name], value=numpy_helper.from_array(np.asarray(value), name)))
        return name

    def batched(op: str, x: str, out: str, inputs=(), **attrs) -> None:
        """`op` on the (C, H, W) tensor x, wrapped the way the exporter adds and drops the batch."""
        nodes.append(helper.make_node("Unsqueeze", [x, const(np.array([0], np.int64))], [f"{out}_4d"]))
        nodes.append(helper.make_node(op, [f"{out}_4d", *inputs], [f"{out}_y"], **attrs))
        nodes.append(helper.make_node("Squeeze", [f"{out}_y", const(np.array([0], np.int64))], [out]))

    batched("Conv", "x", "c1", ["w1", "b1"], pads=[1, 1, 1, 1])
    nodes.append(helper.make_node("Relu", ["c1"], ["r1"]))
    batched("MaxPool", "r1", "p1", kernel_shape=[2, 2], strides=[2, 2])
    batched("Conv", "p1", "c2", ["w2", "b2"], pads=[1, 1, 1, 1])
    nodes.append(helper.make_node("Relu", ["c2"], ["r2"]))
    batched("MaxPool", "r2", "p2", kernel_shape=[2, 2], strides=[2, 2])
    nodes += [
        helper.make_node("Reshape", ["p2", const(np.array([1, 784], np.int64))], ["f"]),
        helper.make_node("Transpose", ["fc1"], ["fc1_t"], perm=[1, 0]),
        helper.make_node("MatMul", ["f", "fc1_t"], ["h0"]),
        helper.make_node("Add", ["h0", "fb1"], ["h"]),
        helper.make_node("Relu", ["h"], ["hr"]),
        helper.make_node("Transpose", ["fc2"], ["fc2_t"], perm=[1, 0]),
        helper.make_node("MatMul", ["hr", "fc2_t"], ["l0"]),
        helper.make_node("Add", ["l0", "fb2"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probs"], axis=-1),
    ]
    nodes.append(helper.make_node("Squeeze", ["probs", const(np.array([0], np.int64))], ["softmax_1"]))
    inits = [numpy_helper.from_array(value.astype(np.float32), name) for name, value in weights.items()]
    graph = helper.make_graph(nodes, "main_graph", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 28, 28])],
                              [helper.make_tensor_value_info("softmax_1", TensorProto.FLOAT, [10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=10)
    onnx.checker.check_model(model)
    return model
