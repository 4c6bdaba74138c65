"""evaluate(): every figure of an Evaluation against a value computed here, on a nearest-centroid classifier
built from real training images (no training loop, deterministic), and the latency loops' run counts."""

from __future__ import annotations

import contextlib

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgeshrink.evaluate import THROUGHPUT_BATCH, evaluate, measure_edge, measure_latency
from edgeshrink.signature import PRESETS, Signature
from edgeshrink.size import measure


def centroid_model(train, batch="N") -> onnx.ModelProto:
    """logits = x . c_k - |c_k|^2 / 2 with c_k the mean 0..1 training image of digit k."""
    x = train.images[:6000].reshape(-1, 784).astype(np.float64) / 255
    centroids = np.stack([x[train.labels[:6000] == k].mean(0) for k in range(10)])
    w = numpy_helper.from_array(centroids.T.astype(np.float32), "w")
    b = numpy_helper.from_array((-0.5 * (centroids ** 2).sum(1)).astype(np.float32), "b")
    shape = numpy_helper.from_array(np.array([-1, 784], np.int64), "shape")
    nodes = [helper.make_node("Reshape", ["image", "shape"], ["flat"]),
             helper.make_node("MatMul", ["flat", "w"], ["mm"]), helper.make_node("Add", ["mm", "b"], ["logits"])]
    dims = [batch, 1, 28, 28] if batch is not None else [1, 28, 28]
    graph = helper.make_graph(nodes, "centroids", [helper.make_tensor_value_info("image", TensorProto.FLOAT, dims)],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [batch or 1, 10])],
                              [w, b, shape])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8,
                              producer_name="hand", producer_version="1.0")
    return model


SIG = Signature("image", "NCHW", None, "float32", PRESETS["unit"], 0, "logits", "logits")


@pytest.fixture(scope="module")
def model(train_split):
    return centroid_model(train_split)


class Recorder:
    def __init__(self):
        self.calls, self.advanced = [], 0

    @contextlib.contextmanager
    def __call__(self, description, total):
        self.calls.append((description, total))

        def advance(n):
            self.advanced += n

        yield advance


def test_every_figure_of_an_evaluation(model, test_split):
    test = test_split.take(1500)
    track = Recorder()
    result = evaluate(model, SIG, "centroids.onnx", test=test, latency=False, track=track,
                      preprocess_source="option")
    x = test.images.reshape(-1, 784).astype(np.float32) / 255
    w, b = (numpy_helper.to_array(i) for i in model.graph.initializer[:2])
    correct = int(((x @ w + b).argmax(1) == test.labels).sum())
    assert result.correct == correct and result.total == 1500 and result.accuracy == correct / 1500
    assert 0.7 < result.accuracy < 0.9  # nearest centroid on MNIST: about 80%
    assert result.name == "centroids.onnx" and result.preprocess_source == "option" and result.signature == SIG
    # every initializer element, as the peers' manifest counts: weights, biases and the reshape target
    assert (result.params_total, result.params_nonzero) == (7840 + 10 + 2, int(np.count_nonzero(w)) + 10 + 2)
    assert result.size == measure(model.SerializeToString())
    assert result.nodes == 3 and result.op_histogram == {"Reshape": 1, "MatMul": 1, "Add": 1}
    assert result.opset == 13 and result.producer == "hand 1.0"
    assert result.latency is None and result.edge is None and result.notes == []
    assert track.calls == [("evaluate centroids.onnx", 1500)] and track.advanced == 1500
    assert result.to_dict()["preprocess"] == "unit" and result.to_dict()["correct"] == correct


def test_the_default_test_set_is_all_10000_images(model):
    model = onnx.ModelProto.FromString(model.SerializeToString())
    model.producer_name, model.producer_version = "", ""
    result = evaluate(model, SIG, latency=False)
    assert result.total == 10_000 and result.name == "model" and result.producer == ""
    assert result.preprocess_source == "metadata"


def test_latency_runs_between_the_minimum_and_the_maximum(model, test_split):
    pixels = test_split.images[:300]
    quick = measure_latency(model, SIG, pixels, min_runs=5, max_runs=50, budget_s=0.0)
    assert quick.runs == 5  # past the deadline at once: the minimum
    capped = measure_latency(model, SIG, pixels, min_runs=5, max_runs=7, budget_s=2.0)
    assert capped.runs == 7  # before the deadline: until the maximum
    for lat in (quick, capped):
        assert lat.batch == 1 and lat.throughput_batch == THROUGHPUT_BATCH == 256
        assert 0 < lat.median_ms <= lat.p90_ms and lat.throughput_ips > 0


@pytest.mark.parametrize("batch, runs_at", [(4, 4), (None, 1)])
def test_latency_at_the_batch_the_model_takes(batch, runs_at, train_split, test_split):
    dims = 4 if batch else None
    model = centroid_model(train_split, batch=dims)
    sig = Signature("image", "NCHW" if batch else "NCHW", batch if batch else 0, "float32", PRESETS["unit"])
    lat = measure_latency(model, sig, test_split.images[:300], min_runs=3, max_runs=3, budget_s=0.0)
    assert lat.batch == runs_at and lat.throughput_batch == runs_at and lat.runs == 3


def test_edge_latency_in_the_compiled_runtime(model, test_split):
    edge = measure_edge(model, SIG, test_split.images[:50], runs=20)
    if edge.median_ms is None and ("clang" in edge.reason or "node" in edge.reason.lower()):
        pytest.skip(f"the compiled runtime's toolchain is missing: {edge.reason}")
    assert edge.reason == "" and edge.runs == 20 and 0 < edge.median_ms <= edge.p90_ms
    assert 0 < edge.wasm_brotli < edge.wasm_bytes


def test_edge_latency_names_why_a_model_does_not_compile(model, test_split):
    odd = onnx.ModelProto.FromString(model.SerializeToString())
    odd.graph.node.append(helper.make_node("Hardmax", ["logits"], ["hard"], axis=1))
    odd.graph.output[0].name = "hard"
    edge = measure_edge(odd, SIG, test_split.images[:10], runs=5)
    assert edge.median_ms is None and edge.p90_ms is None and edge.runs == 0
    assert edge.wasm_bytes == 0 and edge.wasm_brotli == 0 and "Hardmax" in edge.reason


def test_latency_is_measured_by_default_and_survives_the_report_round_trip(model, test_split):
    from edgeshrink.evaluate import Evaluation

    result = evaluate(model, SIG, "c.onnx", test=test_split.take(300))
    assert result.latency is not None and result.latency.batch == 1 and result.latency.runs >= 50
    assert result.edge is not None and (result.edge.median_ms is not None or result.edge.reason)
    assert Evaluation.from_dict(result.to_dict()) == result
    bare = evaluate(model, SIG, "c.onnx", test=test_split.take(300), latency=False)
    assert Evaluation.from_dict(bare.to_dict()) == bare and bare.latency is None and bare.edge is None
    extra = {**bare.to_dict(), "added_by_a_later_version": 1}
    assert Evaluation.from_dict(extra) == bare
