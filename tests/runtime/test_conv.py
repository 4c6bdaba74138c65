"""Conv kernels against onnxruntime: groups, depthwise, pads, strides, dilations, odd shapes."""

import pytest
from onnx import helper

from tests.runtime.kernel_check import assert_matches, graph, rand

CASES = {
    "plain 3x3": dict(c=1, m=4, k=3, attrs={}),
    "asymmetric pads, stride 2": dict(c=2, m=3, k=3, attrs=dict(pads=[1, 0, 2, 1], strides=[2, 2])),
    "dilation 2": dict(c=3, m=2, k=3, attrs=dict(dilations=[2, 2], pads=[2, 2, 2, 2])),
    "grouped": dict(c=4, m=6, k=3, attrs=dict(group=2, pads=[1, 1, 1, 1])),
    "depthwise": dict(c=4, m=4, k=5, attrs=dict(group=4, pads=[2, 2, 2, 2])),
    "same_upper, stride 3": dict(c=1, m=2, k=4, attrs=dict(auto_pad="SAME_UPPER", strides=[3, 3])),
}


@pytest.mark.parametrize("case", list(CASES))
def test_conv(case):
    c, m, k, attrs = CASES[case]["c"], CASES[case]["m"], CASES[case]["k"], CASES[case]["attrs"]
    groups = attrs.get("group", 1)
    w, b = rand((m, c // groups, k, k), 1), rand((m,), 2)
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], **attrs)
    model = graph(node, (1, c, 9, 11), inits={"w": w, "b": b})  # odd, non-square image
    assert_matches(model, [rand((1, c, 9, 11), s) for s in range(3)], exact=False)


def test_conv_relu_fused_without_bias():
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]), helper.make_node("Relu", ["c"], ["y"])]
    model = graph(nodes, (1, 2, 7, 7), inits={"w": rand((3, 2, 3, 3), 4)})
    assert_matches(model, [rand((1, 2, 7, 7), 5)], exact=False)
