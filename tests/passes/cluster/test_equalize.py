"""Cross-layer equalization before cluster: the same answers, channels of like ranges, and a wide channel (as
BatchNorm folding leaves one) no longer spends a per-layer codebook."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from edgeshrink import inference
from edgeshrink.core.graph import Graph
from edgeshrink.core.model import stored_signature
from edgeshrink.finetune.config import FineTune
from edgeshrink.passes.cluster import ClusterConfig, run
from edgeshrink.passes.cluster.equalize import equalize, pairs
from tests.passes.prune.cases import cnn_graph, context, predictions, values_of


def _wide(params: dict[str, np.ndarray], channel: int = 3, factor: float = 200.0) -> dict[str, np.ndarray]:
    """The same function with one channel of w1 `factor` times wider and w2's reading of it as much narrower."""
    out = {name: value.copy() for name, value in params.items()}
    out["w1"][channel] *= factor
    out["b1"][channel] *= factor
    out["w2"][:, channel] /= factor
    return out


def _outputs(model: onnx.ModelProto, pixels: np.ndarray) -> np.ndarray:
    return inference.scores(inference.session(model), stored_signature(model), pixels)


def _channel_ranges(w: np.ndarray) -> np.ndarray:
    return np.abs(w.reshape(w.shape[0], -1)).max(axis=1)


def test_equalize_keeps_the_function_and_undoes_a_wide_channel(trained, test_split):
    pixels = test_split.images[:64]
    model = cnn_graph(_wide(trained))
    before = _outputs(model, pixels)
    out, count = equalize(onnx.load_from_string(model.SerializeToString()))
    assert count == 1  # w1 -> Relu -> MaxPool -> w2; w2 feeds a Gemm through a Reshape, no pair
    np.testing.assert_allclose(_outputs(out, pixels), before, rtol=1e-4, atol=1e-3 * np.abs(before).max())
    ranges = _channel_ranges(values_of(out)["w1"])
    assert ranges.max() / ranges.min() < _channel_ranges(values_of(model)["w1"]).max() / ranges.min() / 10
    # the equalized weights do not depend on how the input spread the scale between the two layers
    plain, _ = equalize(cnn_graph({name: value.copy() for name, value in trained.items()}))
    for name in ("w1", "b1", "w2"):
        np.testing.assert_allclose(values_of(out)[name], values_of(plain)[name], rtol=1e-3, atol=1e-5)


def test_cluster_with_equalize_keeps_the_answers_one_codebook_loses(trained, train_split, test_split):
    model = cnn_graph(_wide(trained))
    ctx = context(model, train_split, images=256)
    images = test_split.images[:500]
    reference = predictions(model, ctx.signature, images)
    agree = {}
    for equal in (False, True):
        out = run(model, ClusterConfig(bits=4, equalize=equal, finetune=FineTune(epochs=0)), context(model, train_split))
        agree[equal] = (predictions(out, ctx.signature, images) == reference).mean()
    assert agree[True] >= 0.95 and agree[True] > agree[False], agree


def test_a_conv_read_twice_or_by_another_operator_is_left_alone():
    w = numpy_helper.from_array(np.ones((2, 1, 1, 1), np.float32), "wa")
    wb = numpy_helper.from_array(np.full((2, 2, 1, 1), 3.0, np.float32), "wb")
    wc = numpy_helper.from_array(np.full((2, 2, 1, 1), 5.0, np.float32), "wc")
    nodes = [helper.make_node("Conv", ["x", "wa"], ["a"]), helper.make_node("Relu", ["a"], ["r"]),
             helper.make_node("Conv", ["r", "wb"], ["b"]), helper.make_node("Sigmoid", ["b"], ["s"]),
             helper.make_node("Conv", ["s", "wc"], ["c"]), helper.make_node("Add", ["r", "c"], ["y"])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 2, 2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 2, 2])], [w, wb, wc])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    assert pairs(Graph(model)) == []  # r has two readers; Sigmoid does not commute with a scale
    out, count = equalize(model)
    assert count == 0 and values_of(out)["wa"].tolist() == values_of(model)["wa"].tolist()
