"""Dynamic int8 kernels against onnxruntime, bit for bit: the per-run scale and zero point, ConvInteger,
MatMulInteger, and the DynamicQuantizeMatMul onnxruntime fuses MatMulInteger chains into."""

import numpy as np
import pytest
from onnx import helper

from tests.runtime.kernel_check import assert_matches, graph, rand


@pytest.mark.parametrize("low,high", [(-3.0, 5.0), (0.5, 9.0), (-4.0, -1.0)])  # straddling, all >0, all <0
def test_dynamic_quantize_linear(low, high):
    nodes = [helper.make_node("DynamicQuantizeLinear", ["x"], ["q", "s", "z"]),
             helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"])]
    model = graph(nodes, (3, 17))
    assert_matches(model, [rand((3, 17), seed, low=low, high=high) for seed in range(3)])


def test_conv_integer_then_scale():
    nodes = [helper.make_node("DynamicQuantizeLinear", ["x"], ["q", "s", "z"]),
             helper.make_node("ConvInteger", ["q", "w", "z", "wz"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Cast", ["c"], ["cf"], to=1),
             helper.make_node("Mul", ["s", "ws"], ["k"]),
             helper.make_node("Mul", ["cf", "k"], ["y"])]
    inits = {"w": rand((3, 2, 3, 3), 1, np.int8, -127, 127), "wz": np.int8(0), "ws": np.float32(0.01)}
    model = graph(nodes, (1, 2, 6, 5), inits=inits)
    assert_matches(model, [rand((1, 2, 6, 5), s) for s in range(3)])


def test_dynamic_matmul_with_bias():
    """quantize_dynamic's MatMul form; onnxruntime fuses it into DynamicQuantizeMatMul."""
    nodes = [helper.make_node("DynamicQuantizeLinear", ["x"], ["q", "s", "z"]),
             helper.make_node("MatMulInteger", ["q", "w", "z", "wz"], ["m"]),
             helper.make_node("Cast", ["m"], ["mf"], to=1),
             helper.make_node("Mul", ["s", "ws"], ["k"]),
             helper.make_node("Mul", ["mf", "k"], ["r"]),
             helper.make_node("Add", ["r", "b"], ["y"])]
    inits = {"w": rand((20, 10), 1, np.int8, -127, 127), "wz": np.int8(0), "ws": np.float32(0.02),
             "b": rand((10,), 2)}
    model = graph(nodes, (1, 20), inits=inits)
    assert_matches(model, [rand((1, 20), s) for s in range(4)])
