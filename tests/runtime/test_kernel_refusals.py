"""What the compiled runtime's int8 kernels and window geometry refuse, each in one sentence naming the
operator and the reason (the model then runs on onnxruntime-web): checked before clang runs, so fast. And the
window geometries the other tests do not reach (SAME_LOWER, VALID, dilated pooling), bit for bit."""

import re

import numpy as np
import pytest
from onnx import helper

from edgeshrink.errors import UnsupportedModel
from edgeshrink.runtime.compiler import compile_graph
from tests.runtime.kernel_check import assert_matches, graph, rand


def refusal(model) -> str:
    with pytest.raises(UnsupportedModel) as err:
        compile_graph(model)
    return str(err.value)


def _qmatmul(b, bz, x_shape=(3, 12)):
    inits = {"as": np.float32(0.03), "az": np.uint8(7), "b": b, "bs": np.float32(0.004), "bz": bz,
             "ys": np.float32(0.02), "yz": np.uint8(100)}
    node = helper.make_node("QLinearMatMul", ["x", "as", "az", "b", "bs", "bz", "ys", "yz"], ["y"], name="qmm")
    return graph(node, x_shape, x_type=np.uint8, y_type=np.uint8, inits=inits)


def test_qlinearmatmul_with_per_column_weight_zero_points_is_refused():
    b = rand((12, 5), 3, np.int8, -127, 127)
    message = refusal(_qmatmul(b, np.array([0, 1, 0, 0, 2], np.int8)))
    assert message == "operator QLinearMatMul (qmm) with per-column weight zero points"


def test_two_per_column_weight_zero_points_are_refused_too():
    b = rand((12, 2), 3, np.int8, -127, 127)
    message = refusal(_qmatmul(b, np.array([0, 3], np.int8)))
    assert message == "operator QLinearMatMul (qmm) with per-column weight zero points"


def test_qlinearmatmul_broadcasting_a_batch_of_weights_is_refused():
    b = rand((2, 12, 5), 3, np.int8, -127, 127)
    message = refusal(_qmatmul(b, np.int8(0), (1, 3, 12)))
    assert message == "operator QLinearMatMul (qmm) with batch broadcasting (1, 3, 12) x (2, 12, 5)"


def test_qlinearmatmul_with_batched_weights_is_refused():
    b = rand((2, 12, 5), 3, np.int8, -127, 127)
    assert refusal(_qmatmul(b, np.int8(0), (2, 3, 12))) == "operator QLinearMatMul (qmm) with batched weights"


def test_qgemm_with_per_column_weight_zero_points_is_refused():
    inits = {"as": np.float32(0.03), "az": np.uint8(120), "b": rand((10, 24), 3, np.int8, -127, 127),
             "bs": np.full(10, 0.005, np.float32), "bz": np.arange(10, dtype=np.int8)}
    node = helper.make_node("QGemm", ["x", "as", "az", "b", "bs", "bz"], ["y"], domain="com.microsoft", transB=1,
                            name="qg")
    model = graph(node, (1, 24), x_type=np.uint8, y_type=np.float32, inits=inits, ms=True)
    assert refusal(model) == "operator QGemm (qg) with per-column weight zero points"


def test_a_scale_computed_at_run_time_is_refused_by_quantize():
    nodes = [helper.make_node("DynamicQuantizeLinear", ["x"], ["d", "s", "z"]),
             helper.make_node("QuantizeLinear", ["x", "s", "z"], ["y"], name="q")]
    model = graph(nodes, (2, 5), y_type=np.uint8)
    assert refusal(model) == "operator QuantizeLinear (q) needs a constant scale"


def test_a_one_dimensional_pool_is_refused():
    model = graph(helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2], name="p"), (1, 3, 9))
    assert refusal(model) == "operator MaxPool (p) on a rank-3 input (only 2-D images, NCHW)"


@pytest.mark.parametrize("attrs", [
    dict(auto_pad="SAME_LOWER", strides=[2, 2]),   # the odd padding goes on top and left
    dict(auto_pad="SAME_UPPER", strides=[2, 2]),   # ... on bottom and right
    dict(auto_pad="VALID", strides=[2, 1]),
], ids=lambda a: a["auto_pad"])
def test_auto_pad_geometry(attrs):
    w, b = rand((2, 2, 4, 3), 1), rand((2,), 2)
    model = graph(helper.make_node("Conv", ["x", "w", "b"], ["y"], **attrs), (1, 2, 9, 8), inits={"w": w, "b": b})
    assert_matches(model, [rand((1, 2, 9, 8), s) for s in range(2)], exact=False)


def test_maxpool_dilated_with_ceil_mode():
    node = helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2, 3], dilations=[2, 2], strides=[2, 3],
                            pads=[1, 0, 0, 1], ceil_mode=1)
    model = graph(node, (1, 2, 10, 11))
    assert_matches(model, [rand((1, 2, 10, 11), s) for s in range(2)])


def test_the_refusals_name_no_traceback_and_fit_one_line():
    b = rand((12, 5), 3, np.int8, -127, 127)
    message = refusal(_qmatmul(b, np.array([0, 1, 0, 0, 2], np.int8)))
    assert "\n" not in message and re.match(r"operator \w+ \(", message)


def test_an_input_scale_computed_at_run_time_is_refused_by_qlinearmatmul():
    inits = {"b": rand((5, 4), 3, np.int8, -127, 127), "bs": np.float32(0.004), "bz": np.int8(0),
             "ys": np.float32(0.02), "yz": np.uint8(100)}
    nodes = [helper.make_node("DynamicQuantizeLinear", ["x"], ["q", "s", "z"]),
             helper.make_node("QLinearMatMul", ["q", "s", "z", "b", "bs", "bz", "ys", "yz"], ["y"], name="qmm")]
    model = graph(nodes, (3, 5), y_type=np.uint8, inits=inits)
    assert refusal(model) == "operator QLinearMatMul (qmm) needs a constant input scale"


@pytest.mark.parametrize("slot, what", [(4, "weight scale"), (6, "output scale")])
def test_a_weight_or_output_scale_computed_at_run_time_is_refused_by_qlinearmatmul(slot, what):
    inits = {"as": np.float32(0.03), "az": np.uint8(0), "b": rand((5, 4), 3, np.int8, -127, 127),
             "bs": np.float32(0.004), "bz": np.int8(0), "ys": np.float32(0.02), "yz": np.uint8(100)}
    names = ["q", "as", "az", "b", "bs", "bz", "ys", "yz"]
    names[slot] = "s"  # DynamicQuantizeLinear's scale, known only when the model runs
    nodes = [helper.make_node("DynamicQuantizeLinear", ["x"], ["q", "s", "z"]),
             helper.make_node("QLinearMatMul", names, ["y"], name="qmm")]
    model = graph(nodes, (3, 5), y_type=np.uint8, inits=inits)
    assert refusal(model) == f"operator QLinearMatMul (qmm) needs a constant {what}"
