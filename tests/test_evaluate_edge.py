"""evaluate() reports the compiled runtime's accuracy (run in wasmtime) and per-digit latency (in Node, else in
wasmtime, and then says so), or the reason a model does not compile."""

import numpy as np
from onnx import helper

from edgeshrink import data as mnist
from edgeshrink.core.signature import PRESETS, Signature
from edgeshrink.evaluate import evaluate
from edgeshrink.tables import compare_table, evaluation_table
from tests.runtime.kernel_check import graph, rand

SIG = Signature("x", "NCHW", None, "float32", PRESETS["unit"], output_name="y")


def _model(first):
    nodes = [first, helper.make_node("Flatten", ["h"], ["f"]), helper.make_node("Gemm", ["f", "w"], ["y"], transB=1)]
    return graph(nodes, ("N", 1, 28, 28), inits={"w": rand((10, 784), 1, low=-0.05, high=0.05)})


def test_edge_latency_and_the_reason(test_split):
    small = mnist.Split(test_split.images[:200], test_split.labels[:200])
    compiled = evaluate(_model(helper.make_node("Relu", ["x"], ["h"])), SIG, "relu", test=small)
    lrn = evaluate(_model(helper.make_node("LRN", ["x"], ["h"], size=3)), SIG, "lrn", test=small)
    assert compiled.edge.median_ms > 0 and compiled.edge.runs == 300 and not compiled.edge.reason
    assert 0 < compiled.edge.wasm_brotli < compiled.edge.wasm_bytes
    assert lrn.edge.median_ms is None and lrn.edge.reason == "operator LRN is not supported"
    rows = dict(evaluation_table(lrn).rows)
    assert rows["latency (compiled wasm)"] == "not compiled: operator LRN is not supported"
    assert rows["accuracy (compiled wasm)"] == "not compiled: operator LRN is not supported"
    assert compiled.edge.timer == "Node" and abs(compiled.edge.accuracy - compiled.accuracy) <= 1 / len(small)
    assert "in Node (V8)" in dict(evaluation_table(compiled).rows)["latency (compiled wasm)"]
    table = compare_table([compiled, lrn])
    column = table.columns.index("edge latency")
    assert table.rows[0][column].endswith(" ms") and "LRN" in table.rows[1][column]
    assert np.isfinite(compiled.latency.median_ms)


def test_no_edge_latency_without_latency(test_split):
    small = mnist.Split(test_split.images[:100], test_split.labels[:100])
    assert evaluate(_model(helper.make_node("Relu", ["x"], ["h"])), SIG, test=small, latency=False).edge is None


def test_without_node_wasmtime_times_it_and_the_tables_say_so(test_split, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")  # no node, no clang: the wheels bring all the compiled runtime needs
    small = mnist.Split(test_split.images[:200], test_split.labels[:200])
    ev = evaluate(_model(helper.make_node("Relu", ["x"], ["h"])), SIG, "relu", test=small)
    assert ev.edge.timer == "wasmtime" and ev.edge.median_ms > 0 and ev.edge.accuracy is not None
    assert "in wasmtime (no Node on this machine)" in dict(evaluation_table(ev).rows)["latency (compiled wasm)"]
    table = compare_table([ev, ev])
    assert table.rows[0][table.columns.index("edge latency")].endswith(" ms (wasmtime: no Node)")


def test_a_compiled_module_wasmtime_cannot_load_is_its_own_reason_not_an_int8_error(test_split):
    import pytest

    from edgeshrink import inference
    from edgeshrink.runtime import UnsupportedModel, compile_model
    from edgeshrink.runtime.compiler import WASM_FILE

    model = _model(helper.make_node("Relu", ["x"], ["h"]))
    compiled = compile_model(model, SIG)
    compiled.files[WASM_FILE] = compiled.files[WASM_FILE][:100]  # a module cut short, as a failed write leaves it
    sess = inference.CompiledSession(model, SIG, compiled=compiled)
    with pytest.raises(UnsupportedModel, match="wasmtime cannot load the compiled model"):
        inference.accuracy(sess, SIG, test_split.images[:5], test_split.labels[:5])
