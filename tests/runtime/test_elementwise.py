"""Elementwise kernels against onnxruntime: broadcasting binaries, activations, Cast, softmax."""

import numpy as np
import pytest
from onnx import helper

from tests.runtime.kernel_check import assert_matches, fma_kernels, graph, rand


@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div"])
@pytest.mark.parametrize("b_shape", [(1,), (4, 1), (3, 1, 5), (2, 3, 4, 5)])
def test_binary_broadcasting(op, b_shape):
    b = rand(b_shape, 7) + (3.0 if op == "Div" else 0.0)  # no division by (near) zero
    model = graph(helper.make_node(op, ["x", "b"], ["y"]), (2, 3, 4, 5), inits={"b": b})
    assert_matches(model, [rand((2, 3, 4, 5), 1)])  # one IEEE operation: exact


@pytest.mark.parametrize("op,attrs,exact", [
    ("Relu", {}, True), ("LeakyRelu", {"alpha": 0.2}, True), ("Sigmoid", {}, True), ("Tanh", {}, False)])
def test_activation(op, attrs, exact):
    model = graph(helper.make_node(op, ["x"], ["y"], **attrs), (3, 40))
    # Sigmoid: bit for bit where onnxruntime's logistic is the FMA kernel the runtime follows, else within rounding
    exact = exact and (op != "Sigmoid" or fma_kernels())
    assert_matches(model, [rand((3, 40), 2, low=-12, high=12)], exact=exact, tol=1e-6)


def test_clip_with_constant_bounds():
    nodes = [helper.make_node("Clip", ["x", "lo", "hi"], ["y"])]
    model = graph(nodes, (2, 9), inits={"lo": np.float32(-0.5), "hi": np.float32(0.75)})
    assert_matches(model, [rand((2, 9), 3)])


@pytest.mark.parametrize("op", ["Softmax", "LogSoftmax"])
@pytest.mark.parametrize("width", [10, 37])
def test_softmax(op, width):
    """Softmax is bit-identical (MLAS's exp polynomial and summation order); log-softmax close."""
    model = graph(helper.make_node(op, ["x"], ["y"], axis=-1), (2, width))
    exact = op == "Softmax" and fma_kernels()  # onnxruntime's SSE softmax rounds its exp differently
    assert_matches(model, [rand((2, width), s, low=-30, high=30) for s in range(3)], exact=exact)


def test_cast_float_to_int32_truncates():
    model = graph(helper.make_node("Cast", ["x"], ["y"], to=6), (12,), y_type=np.int32)
    x = np.array([-2.7, -2.5, -0.5, 0.0, 0.49, 0.5, 1.5, 2.5, 2.51, 100.9, -100.9, 7.0], dtype=np.float32)
    assert_matches(model, [x])
