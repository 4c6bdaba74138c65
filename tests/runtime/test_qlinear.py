"""Static int8 kernels against onnxruntime, bit for bit: rounding ties, saturation, per-channel scales,
padding with a non-zero input zero point."""

import numpy as np
import pytest
from onnx import helper

from tests.runtime.kernel_check import assert_matches, graph, rand


@pytest.mark.parametrize("qtype,zp", [(np.uint8, 128), (np.uint8, 3), (np.int8, 0), (np.int8, -5)])
def test_quantize_ties_and_saturation(qtype, zp):
    scale = np.float32(0.5)
    # k + 0.5 steps: exact ties (round half to even); +-1000: far outside the range (saturate)
    x = np.concatenate([np.arange(-10, 10, dtype=np.float32) * scale + scale / 2,
                        np.array([-1000, 1000, -0.0, 0.25, 0.75], dtype=np.float32)]).astype(np.float32)
    node = helper.make_node("QuantizeLinear", ["x", "s", "z"], ["y"])
    model = graph(node, x.shape, y_type=qtype, inits={"s": scale, "z": np.array(zp, dtype=qtype)})
    assert_matches(model, [x, -x])


def test_quantize_dequantize_per_axis():
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], axis=1),
             helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"], axis=1)]
    s = np.array([0.1, 0.02, 0.7], dtype=np.float32)
    model = graph(nodes, (2, 3, 4), inits={"s": s, "z": np.array([0, 5, -3], dtype=np.int8)})
    assert_matches(model, [rand((2, 3, 4), seed, low=-20, high=20) for seed in range(3)])


def _qconv_model(x_zp: int, y_scale: float, per_channel: bool, pads, group: int = 1):
    m, c = 4, 4
    w = rand((m, c // group, 3, 3), 1, np.int8, -127, 127)
    w_scale = np.array([0.01, 0.02, 0.005, 0.03], np.float32) if per_channel else np.float32(0.01)
    inits = {"xs": np.float32(0.02), "xz": np.uint8(x_zp), "w": w, "ws": w_scale,
             "wz": np.zeros(m, np.int8) if per_channel else np.int8(0), "ys": np.float32(y_scale),
             "yz": np.uint8(10), "b": rand((m,), 2, np.int32, -5000, 5000)}
    node = helper.make_node("QLinearConv", ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"], ["y"],
                            pads=pads, group=group)
    return graph(node, (1, c, 7, 6), x_type=np.uint8, y_type=np.uint8, inits=inits)


@pytest.mark.parametrize("x_zp,y_scale,per_channel,pads,group", [
    (0, 0.05, True, [1, 1, 1, 1], 1),      # the quantize pass's form
    (37, 0.05, False, [2, 0, 1, 1], 1),    # padding reads as the zero point
    (128, 0.0005, True, [0, 0, 0, 0], 1),  # tiny output scale: most outputs saturate
    (5, 0.05, True, [1, 1, 1, 1], 4),      # depthwise
])
def test_qlinearconv(x_zp, y_scale, per_channel, pads, group):
    model = _qconv_model(x_zp, y_scale, per_channel, pads, group)
    assert_matches(model, [rand((1, 4, 7, 6), s, np.uint8, 0, 255) for s in range(3)])


@pytest.mark.parametrize("float_out", [False, True])
def test_qgemm(float_out):
    inits = {"as": np.float32(0.03), "az": np.uint8(120), "b": rand((10, 24), 3, np.int8, -127, 127),
             "bs": rand((10,), 4, low=0.001, high=0.01), "bz": np.zeros(10, np.int8),
             "c": rand((10,), 5, np.int32, -3000, 3000), "ys": np.float32(0.07), "yz": np.uint8(128)}
    names = ["x", "as", "az", "b", "bs", "bz", "c"] + ([] if float_out else ["ys", "yz"])
    node = helper.make_node("QGemm", names, ["y"], domain="com.microsoft", transB=1)
    model = graph(node, (1, 24), x_type=np.uint8, y_type=np.float32 if float_out else np.uint8, inits=inits, ms=True)
    assert_matches(model, [rand((1, 24), s, np.uint8, 0, 255) for s in range(4)])


def test_qlinearmatmul():
    inits = {"as": np.float32(0.03), "az": np.uint8(7), "b": rand((12, 5), 3, np.int8, -127, 127),
             "bs": np.float32(0.004), "bz": np.int8(0), "ys": np.float32(0.02), "yz": np.uint8(100)}
    node = helper.make_node("QLinearMatMul", ["x", "as", "az", "b", "bs", "bz", "ys", "yz"], ["y"])
    model = graph(node, (3, 12), x_type=np.uint8, y_type=np.uint8, inits=inits)
    assert_matches(model, [rand((3, 12), s, np.uint8, 0, 255) for s in range(3)])


@pytest.mark.parametrize("op", ["QLinearAdd", "QLinearMul"])
@pytest.mark.parametrize("b_shape", [(2, 3, 4), (3, 1)])
def test_qlinear_binary(op, b_shape):
    inits = {"as": np.float32(0.05), "az": np.uint8(100), "b": rand(b_shape, 2, np.uint8, 0, 255),
             "bs": np.float32(0.03), "bz": np.uint8(120), "cs": np.float32(0.07), "cz": np.uint8(90)}
    node = helper.make_node(op, ["x", "as", "az", "b", "bs", "bz", "cs", "cz"], ["y"], domain="com.microsoft")
    model = graph(node, (2, 3, 4), x_type=np.uint8, y_type=np.uint8, inits=inits, ms=True)
    assert_matches(model, [rand((2, 3, 4), s, np.uint8, 0, 255) for s in range(3)])
