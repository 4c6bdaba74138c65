"""Pooling against onnxruntime: pads, strides, ceil_mode, count_include_pad, 8-bit MaxPool, global pools."""

import numpy as np
import pytest
from onnx import helper

from tests.runtime.kernel_check import assert_matches, graph, rand

WINDOWS = {
    "2x2 stride 2": dict(kernel_shape=[2, 2], strides=[2, 2]),
    "3x3 pads, stride 2, ceil": dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1),
    "3x2 asymmetric pads": dict(kernel_shape=[3, 2], pads=[0, 1, 2, 0]),
}


@pytest.mark.parametrize("window", list(WINDOWS))
def test_maxpool(window):
    model = graph(helper.make_node("MaxPool", ["x"], ["y"], **WINDOWS[window]), (1, 3, 9, 8))
    assert_matches(model, [rand((1, 3, 9, 8), s) for s in range(2)])  # a max is exact


@pytest.mark.parametrize("window", list(WINDOWS))
@pytest.mark.parametrize("include_pad", [0, 1])
def test_averagepool(window, include_pad):
    """Bit-identical where the kernel follows onnxruntime's summation order (not yet ceil_mode with
    count_include_pad: close there)."""
    node = helper.make_node("AveragePool", ["x"], ["y"], count_include_pad=include_pad, **WINDOWS[window])
    model = graph(node, (1, 3, 9, 8))
    exact = not (include_pad and WINDOWS[window].get("ceil_mode"))
    assert_matches(model, [rand((1, 3, 9, 8), s) for s in range(2)], exact=exact)


def test_maxpool_uint8():
    model = graph(helper.make_node("MaxPool", ["x"], ["y"], **WINDOWS["3x3 pads, stride 2, ceil"]), (1, 2, 7, 7),
                  x_type=np.uint8, y_type=np.uint8)
    assert_matches(model, [rand((1, 2, 7, 7), s, np.uint8, 0, 255) for s in range(2)])


@pytest.mark.parametrize("op", ["GlobalAveragePool", "GlobalMaxPool"])
@pytest.mark.parametrize("channels", [5, 10, 16, 32])
def test_global_pool(op, channels):
    """Bit-identical: MLAS's four partial sums, or the NCHWc kernel's plain order for channels in 16s."""
    shape = (1, channels, 7, 7)
    model = graph(helper.make_node(op, ["x"], ["y"]), shape)
    assert_matches(model, [rand(shape, s) for s in range(2)])
