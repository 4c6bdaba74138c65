"""Data movement against onnxruntime: views, Transpose as NHWC exporters use it, Concat, Pad."""

import numpy as np
import pytest
from onnx import helper

from tests.runtime.kernel_check import assert_matches, graph, rand


def test_nhwc_transpose_then_flatten():
    nodes = [helper.make_node("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2]),
             helper.make_node("Relu", ["t"], ["r"]), helper.make_node("Flatten", ["r"], ["y"], axis=1)]
    model = graph(nodes, (1, 5, 6, 3))
    assert_matches(model, [rand((1, 5, 6, 3), 1)])


def test_reshape_squeeze_unsqueeze_identity():
    nodes = [helper.make_node("Unsqueeze", ["x", "ax"], ["u"]), helper.make_node("Relu", ["u"], ["r"]),
             helper.make_node("Squeeze", ["r", "ax"], ["s"]), helper.make_node("Identity", ["s"], ["i"]),
             helper.make_node("Reshape", ["i", "shape"], ["y"])]
    model = graph(nodes, (1, 28, 28), inits={"ax": np.array([1]), "shape": np.array([1, -1])})
    assert_matches(model, [rand((1, 28, 28), 2)])


def test_concat_channels():
    nodes = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Concat", ["x", "r", "c"], ["y"], axis=1)]
    model = graph(nodes, (1, 2, 3, 4), inits={"c": rand((1, 3, 3, 4), 5)})
    assert_matches(model, [rand((1, 2, 3, 4), 3)])


@pytest.mark.parametrize("pads,value", [([0, 0, 1, 2, 0, 0, 3, 0], 0.0), ([0, 1, 0, 0, 0, 0, 2, 2], -1.5)])
def test_pad_constant(pads, value):
    nodes = [helper.make_node("Pad", ["x", "p", "v"], ["r"]), helper.make_node("Relu", ["r"], ["y"])]
    model = graph(nodes, (1, 2, 4, 5), inits={"p": np.array(pads), "v": np.float32(value)})
    assert_matches(model, [rand((1, 2, 4, 5), 4)])
