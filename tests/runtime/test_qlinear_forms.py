"""The int8 kernels' less common forms against onnxruntime, bit for bit: QGemm with alpha, transA and a
scalar bias; QLinearMatMul with a weight zero point (the plain loops instead of the paired SIMD layout), an odd
inner size and int8 activations; per-axis quantization by the default and a negative axis."""

import numpy as np
import pytest
from onnx import helper, numpy_helper

from tests.runtime.kernel_check import assert_matches, graph, rand


@pytest.mark.parametrize("alpha,trans_a,c_size", [(0.5, 0, 1), (1.0, 1, 10), (2.0, 1, 1)])
def test_qgemm_alpha_trans_a_and_a_scalar_bias(alpha, trans_a, c_size):
    inits = {"as": np.float32(0.03), "az": np.uint8(120), "b": rand((10, 24), 3, np.int8, -127, 127),
             "bs": rand((10,), 4, low=0.001, high=0.01), "bz": np.zeros(10, np.int8),
             "c": rand((c_size,), 5, np.int32, -3000, 3000), "ys": np.float32(0.07), "yz": np.uint8(128)}
    node = helper.make_node("QGemm", ["x", "as", "az", "b", "bs", "bz", "c", "ys", "yz"], ["y"],
                            domain="com.microsoft", transB=1, transA=trans_a, alpha=alpha)
    shape = (24, 2) if trans_a else (2, 24)  # two rows: M = 2
    model = graph(node, shape, x_type=np.uint8, y_type=np.uint8, inits=inits, ms=True)
    assert_matches(model, [rand(shape, s, np.uint8, 0, 255) for s in range(3)])


@pytest.mark.parametrize("x_type,b_zp,k", [(np.uint8, 3, 13), (np.int8, 0, 13), (np.uint8, 0, 7)])
def test_qlinearmatmul_weight_zero_point_odd_inner_size_and_int8_input(x_type, b_zp, k):
    low, high = (0, 255) if x_type == np.uint8 else (-128, 127)
    inits = {"as": np.float32(0.03), "az": np.array(7 if x_type == np.uint8 else -4, x_type),
             "b": rand((k, 6), 3, np.int8, -127, 127), "bs": np.float32(0.004), "bz": np.int8(b_zp),
             "ys": np.float32(0.02), "yz": np.array(100 if x_type == np.uint8 else 5, x_type)}
    node = helper.make_node("QLinearMatMul", ["x", "as", "az", "b", "bs", "bz", "ys", "yz"], ["y"])
    model = graph(node, (3, k), x_type=x_type, y_type=x_type, inits=inits)
    assert_matches(model, [rand((3, k), s, x_type, low, high) for s in range(3)])


@pytest.mark.parametrize("axis", [None, -1])
def test_per_axis_quantization_default_and_negative_axis(axis):
    size = 3 if axis is None else 4  # the default axis is 1
    kw = {} if axis is None else {"axis": axis}
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], **kw),
             helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"], **kw)]
    s = np.array([0.1, 0.02, 0.7, 0.05][:size], dtype=np.float32)
    z = np.array([0, 5, -3, 9][:size], dtype=np.int8)
    model = graph(nodes, (2, 3, 4), inits={"s": s, "z": z})
    assert_matches(model, [rand((2, 3, 4), seed, low=-20, high=20) for seed in range(3)])


def _qconv(w, w_zp, bias: bool, group=None):
    m = w.shape[0]
    inits = {"xs": np.float32(0.02), "xz": np.uint8(37), "w": w, "ws": np.float32(0.01), "wz": w_zp,
             "ys": np.float32(0.05), "yz": np.uint8(10)}
    names = ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz"]
    if bias:
        inits["b"] = rand((m,), 2, np.int32, -5000, 5000)
        names.append("b")
    kw = {} if group is None else {"group": group}
    node = helper.make_node("QLinearConv", names, ["y"], pads=[1, 1, 1, 1], **kw)
    return graph(node, (1, 4, 7, 6), x_type=np.uint8, y_type=np.uint8, inits=inits)


@pytest.mark.parametrize("w_type,w_zp,bias", [
    (np.uint8, 128, True),   # uint8 weights around 128: the plain loops subtract the weight zero point
    (np.uint8, 0, False),    # uint8 weights, zero point 0, no bias: the plain loops, nothing subtracted
    (np.int8, 0, False),     # the SIMD path without a bias and without a group attribute (ONNX's default 1)
])
def test_qlinearconv_weight_zero_points_no_bias_default_group(w_type, w_zp, bias):
    low, high = (0, 255) if w_type == np.uint8 else (-127, 127)
    w = rand((3, 4, 3, 3), 1, w_type, low, high)
    model = _qconv(w, np.array(w_zp, w_type), bias)
    assert_matches(model, [rand((1, 4, 7, 6), s, np.uint8, 0, 255) for s in range(3)])


def test_qgemm_plain_weights_a_weight_zero_point_and_a_full_bias():
    """transB absent (ONNX's default 0: weights stored (K, N)), a per-tensor weight zero point of 3, a bias for
    every output (M, N)."""
    inits = {"as": np.float32(0.03), "az": np.uint8(120), "b": rand((24, 10), 3, np.int8, -100, 100),
             "bs": np.float32(0.004), "bz": np.int8(3), "c": rand((2, 10), 5, np.int32, -3000, 3000),
             "ys": np.float32(0.07)}
    node = helper.make_node("QGemm", ["x", "as", "az", "b", "bs", "bz", "c", "ys"], ["y"], domain="com.microsoft")
    model = graph(node, (2, 24), x_type=np.uint8, y_type=np.uint8, inits=inits, ms=True)
    model.graph.node[0].input.append("yz")
    model.graph.initializer.append(numpy_helper.from_array(np.uint8(9), "yz"))
    assert_matches(model, [rand((2, 24), s, np.uint8, 0, 255) for s in range(3)])


def test_dequantize_without_a_zero_point_constant_per_axis_and_run_time_scale():
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], axis=1),
             helper.make_node("DequantizeLinear", ["q", "s"], ["d"], axis=1),  # zero point omitted: 0
             helper.make_node("DynamicQuantizeLinear", ["d"], ["q2", "s2", "z2"]),
             helper.make_node("Cast", ["q2"], ["q2i"], to=3),  # int8: the run-time scale, no zero point
             helper.make_node("DequantizeLinear", ["q2i", "s2"], ["y"])]
    s = np.array([0.1, 0.02, 0.7], dtype=np.float32)
    model = graph(nodes, (2, 3, 4), inits={"s": s, "z": np.zeros(3, np.int8)})
    assert_matches(model, [rand((2, 3, 4), seed, low=-20, high=20) for seed in range(3)])


def test_two_channels_per_axis_without_a_zero_point():
    """Exactly two per-axis scales (the per-tensor test is a size of 1), and QuantizeLinear without a zero
    point (uint8, 0)."""
    nodes = [helper.make_node("QuantizeLinear", ["x", "s"], ["q"], axis=1),
             helper.make_node("DequantizeLinear", ["q", "s"], ["y"], axis=1)]
    model = graph(nodes, (3, 2, 4), inits={"s": np.array([0.1, 0.03], dtype=np.float32)})
    assert_matches(model, [rand((3, 2, 4), seed, low=-2, high=20) for seed in range(3)])


def test_qgemm_with_two_per_column_scales():
    inits = {"as": np.float32(0.03), "az": np.uint8(120), "b": rand((2, 24), 3, np.int8, -127, 127),
             "bs": np.array([0.002, 0.009], np.float32), "bz": np.zeros(2, np.int8), "ys": np.float32(0.07),
             "yz": np.uint8(128)}
    node = helper.make_node("QGemm", ["x", "as", "az", "b", "bs", "bz", "", "ys", "yz"], ["y"],
                            domain="com.microsoft", transB=1)
    model = graph(node, (3, 24), x_type=np.uint8, y_type=np.uint8, inits=inits, ms=True)
    assert_matches(model, [rand((3, 24), s, np.uint8, 0, 255) for s in range(3)])
