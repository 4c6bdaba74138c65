"""evaluate(): every figure of an Evaluation against a value computed here, on a nearest-centroid classifier
built from real training images (no training loop, deterministic), and the latency loops' run counts."""

from __future__ import annotations

import contextlib

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgeshrink.core.signature import PRESETS, Signature
from edgeshrink.evaluate import THROUGHPUT_BATCH, evaluate, measure_compiled, measure_latency
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


def test_edge_latency_in_the_compiled_runtime(model, test_split, monkeypatch):
    from edgeshrink.runtime import node

    if not node.available():
        pytest.skip("Node is not installed: wasmtime times the compiled model (test_evaluate_edge covers that)")
    measured, real = [], node.node_latency_ms
    monkeypatch.setattr(node, "node_latency_ms", lambda *a, **k: measured.extend(real(*a, **k)) or list(measured))
    edge = measure_compiled(model, SIG, test_split.images[:50], runs=20)
    assert edge.reason == "" and edge.runs == 20 and 0 < edge.median_ms <= edge.p90_ms and edge.timer == "Node"
    # the figures are the median and 90th percentile of the times Node measured
    assert (edge.median_ms, edge.p90_ms) == (float(np.median(measured)), float(np.percentile(measured, 90)))
    assert 0 < edge.wasm_brotli < edge.wasm_bytes


def test_edge_latency_names_why_a_model_does_not_compile(model, test_split):
    odd = onnx.ModelProto.FromString(model.SerializeToString())
    odd.graph.node.append(helper.make_node("Hardmax", ["logits"], ["hard"], axis=1))
    odd.graph.output[0].name = "hard"
    edge = measure_compiled(odd, SIG, test_split.images[:10], runs=5)
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


class RunClock:
    """A clock that moves only when the model runs: each run of the real onnxruntime session advances it by the
    next cost of `costs(k)` (k counts every run, warm-ups included), so every latency figure is known exactly.
    The session is onnxruntime's own; only the clock is the test's."""

    def __init__(self, costs):
        self.now, self.k, self.costs, self.threads = 0.0, 0, costs, []

    def perf_counter(self):
        return self.now

    def session(self, model, threads=0, native=False):
        real = _real_session(model, threads=threads, native=native)
        self.threads.append(threads)
        self.native = native
        clock = self

        class Timed:
            def run(self, *args):
                out = real.run(*args)
                clock.now += clock.costs(clock.k)
                clock.k += 1
                return out

        return Timed()


from edgeshrink import inference as _inference  # noqa: E402

_real_session = _inference.session
U = 2.0 ** -10  # a binary fraction of a second: every sum of costs is exact


def _timed(monkeypatch, costs):
    from edgeshrink import evaluate as ev

    clock = RunClock(costs)
    monkeypatch.setattr(ev.time, "perf_counter", clock.perf_counter)
    monkeypatch.setattr(ev.inference, "session", clock.session)
    return clock


def test_latency_figures_from_a_clock_that_moves_with_the_runs(model, test_split, monkeypatch):
    # runs cost 1, 2, ..., 7 units in turn; 10 warm-ups (k = 0..9), then timed runs from k = 10:
    # 4 5 6 7 1 2 3 4 5 6 7 (after the 3 asked for, until the 50-unit deadline: 34 -> 84 units exactly)
    clock = _timed(monkeypatch, lambda k: (k % 7 + 1) * U)
    lat = measure_latency(model, SIG, test_split.images[:300], min_runs=3, max_runs=1000, budget_s=50 * U)
    times = np.array([4, 5, 6, 7, 1, 2, 3, 4, 5, 6, 7]) * U * 1000
    assert clock.threads == [1]  # one thread: the latency of one core
    assert clock.native  # onnxruntime as a native deployment creates it
    assert lat.runs == 11 and lat.batch == 1
    assert lat.median_ms == pytest.approx(float(np.median(times)), rel=1e-12)
    assert lat.p90_ms == pytest.approx(float(np.percentile(times, 90)), rel=1e-12)
    # throughput: one warm-up at batch 256 (k = 21, 1 unit), then runs until at least 3 and 25 units:
    # k = 22.. cost 2 3 4 5 6 7 (27 units, 6 runs)
    assert lat.throughput_batch == 256
    assert lat.throughput_ips == pytest.approx(6 * 256 / (27 * U), rel=1e-12)


def test_latency_defaults_50_runs_1000_at_most_one_second(model, test_split, monkeypatch):
    pixels = test_split.images[:300]
    _timed(monkeypatch, lambda k: U)
    assert measure_latency(model, SIG, pixels, budget_s=0.0).runs == 50  # the default minimum
    # 2^-20 s a run: 1,000 runs take a millisecond, far inside the second; then 1 s a run for throughput
    _timed(monkeypatch, lambda k: 2.0 ** -20 if k < 1010 else 1.0)
    capped = measure_latency(model, SIG, pixels)
    assert capped.runs == 1000 and capped.throughput_ips == pytest.approx(3 * 256 / 3.0, rel=1e-12)
    # 1/8 s a run after the minimum of 1: the default budget of 1 s holds 8 runs
    _timed(monkeypatch, lambda k: 0.125)
    assert measure_latency(model, SIG, pixels, min_runs=1).runs == 8


def test_throughput_runs_at_least_three_times(model, test_split, monkeypatch):
    _timed(monkeypatch, lambda k: (k % 7 + 1) * U)
    lat = measure_latency(model, SIG, test_split.images[:300], min_runs=2, max_runs=2, budget_s=0.0)
    # timed k = 10, 11; throughput warm-up k = 12; three runs k = 13, 14, 15: 7 + 1 + 2 = 10 units
    assert lat.runs == 2 and lat.throughput_ips == pytest.approx(3 * 256 / (10 * U), rel=1e-12)


def test_p90_and_the_throughput_deadline_at_their_edges(model, test_split, monkeypatch):
    # timed runs k = 10..19 cost 11..20 units, all different: the 90th percentile is 19.1 units, not 19.2
    # (a 91st) nor 20; throughput: warm-up k = 20, then 22 + 23 + 24 + 25 + 26 = 120 units reach half the
    # 240-unit budget exactly, where the runs stop (a sixth would make it 147 units)
    _timed(monkeypatch, lambda k: (k + 1) * U)
    lat = measure_latency(model, SIG, test_split.images[:300], min_runs=10, max_runs=10, budget_s=240 * U)
    assert lat.runs == 10 and lat.p90_ms == pytest.approx(19.1 * U * 1000, rel=1e-12)
    assert lat.throughput_ips == pytest.approx(5 * 256 / (120 * U), rel=1e-12)
