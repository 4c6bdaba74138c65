"""Exact int8 arithmetic on whatever CPU runs the tests: the probe, the measuring sessions, the compiled runtime
standing in for onnxruntime, and what evaluate records. tests/test_cpu_paths.py runs this file again under QEMU
with CPU models whose onnxruntime kernels differ (AVX2 without VNNI caps sums; SSE does not)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgeshrink import engine, inference
from edgeshrink.core.model import with_signature
from edgeshrink.core.signature import PRESETS, Signature
from edgeshrink.evaluate import evaluate
from edgeshrink.params import build_config
from edgeshrink.passes.base import PassContext
from edgeshrink.passes.quantize import QuantizeConfig
from edgeshrink.passes.quantize import quantize as quantize_pass
from edgeshrink.tables import evaluation_table
from tests.models import linear_classifier

SIGNATURE = Signature("x", "N784", None, "float32", PRESETS["unit"], output_name="y")
IMAGES = 1000


@pytest.fixture(scope="module")
def int8_linear(train_split) -> onnx.ModelProto:
    """A real MNIST classifier without torch: ridge regression on 5,000 training images (about 80% on the test
    set), quantized static int8 by the quantize pass at full range. Its int8 weights span -127..127 and MNIST
    strokes put runs of 255 beside each other, which is what makes onnxruntime's capping kernels differ."""
    images = train_split.take(5000)
    x = SIGNATURE.feed(images.images).astype(np.float64)
    y = np.eye(10)[images.labels]
    w = np.linalg.solve(x.T @ x + 10 * np.eye(784), x.T @ y).astype(np.float32)
    graph = helper.make_graph([helper.make_node("Gemm", ["x", "w"], ["h"]), helper.make_node("Relu", ["h"], ["r"]),
                               helper.make_node("Gemm", ["r", "w2"], ["y"])], "ridge",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 784])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 10])],
                              [numpy_helper.from_array(np.concatenate([w, -w], axis=1), "w"),
                               numpy_helper.from_array(np.concatenate([np.eye(10), -np.eye(10)]).astype(np.float32),
                                                       "w2")])
    model = with_signature(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), SIGNATURE)
    cfg = build_config(QuantizeConfig, {"calibration_images": 200, "float_scores": False, "reduce_range": False})
    return quantize_pass.run(model, cfg, PassContext(SIGNATURE, train_split.take(200)))


def _case(name: str):
    """(model, capping input, exact output) of the probe case `name`."""
    return next(c[1:] for c in engine.cases() if c[0] == name)


@pytest.mark.parametrize("case", [c[0] for c in engine.cases()])
def test_measuring_sessions_sum_capping_inputs_exactly(case):
    # every activation 255, every weight 127: a pair of products is 64,770, past the int16 a capping kernel keeps
    model, x, exact = _case(case)
    got = inference.session(model).run(None, {"x": x})[0]
    assert np.array_equal(got, exact), f"{case}: {got.ravel()[:4]} instead of {exact.ravel()[:4]}"


@pytest.mark.parametrize("case", [c[0] for c in engine.cases()])
def test_the_compiled_runtime_sums_capping_inputs_exactly(case):
    from edgeshrink.runtime.compiler import compile_graph
    from edgeshrink.runtime.wasm import run_images

    model, x, exact = _case(case)
    got = run_images(compile_graph(model), x.reshape(1, -1))
    assert np.array_equal(got.reshape(-1), exact.astype(np.float32).reshape(-1))


def test_the_probe_knows_this_cpu():
    found = engine.current()
    assert found.native_exact == (not found.capped)
    assert found.int8 == (engine.ENGINE_ORT if found.native_exact else engine.ENGINE_ORT_EXACT)  # onnxruntime 1.32
    assert found.cpu.machine and found.onnxruntime == __import__("onnxruntime").__version__
    assert engine.Engine.from_dict(found.to_dict()) == found


def test_the_option_does_not_reach_an_opset_21_qlinearmatmul():
    # onnxruntime rewrites the int8 weights of QLinearMatMul version 10 only (and only on a CPU with AVX2, where
    # the kernels cap); at opset 21 they stay int8, so on a capping CPU the compiled runtime measures such a model
    model, _, _ = _case("QLinearMatMul")
    assert (engine.uncovered(model) == []) == ("AVX2" in engine.current().cpu.int8_features)
    model.opset_import[0].version = 21
    assert engine.uncovered(model) == ["QLinearMatMul w"]
    assert engine.uncovered(model, option=False) == ["QLinearMatMul w"]


def test_weights_within_64_need_no_rewrite():
    model, _, _ = _case("QLinearMatMul")
    w = next(i for i in model.graph.initializer if i.name == "w")
    w.CopyFrom(numpy_helper.from_array(np.full((64, 4), -64, np.int8), "w"))
    model.opset_import[0].version = 21
    assert engine.uncovered(model, option=False) == []


def test_the_compiled_runtime_standing_in_gives_onnxruntimes_exact_scores(int8_linear, test_split):
    pixels = test_split.images[:IMAGES]
    exact = inference.scores(inference.session(int8_linear), SIGNATURE, pixels)
    stand_in = inference.CompiledSession(int8_linear, SIGNATURE, "asked for by the test")
    assert inference.engine_of(stand_in) == engine.ENGINE_COMPILED
    assert np.array_equal(inference.scores(stand_in, SIGNATURE, pixels), exact)


def test_evaluate_says_what_computed_int8_and_what_the_native_kernels_give(int8_linear, test_split):
    test = test_split.take(IMAGES)
    result = evaluate(int8_linear, SIGNATURE, "ridge", test=test, latency=False)
    assert result.engine == engine.current().int8
    assert 0.7 < result.accuracy < 0.9
    if engine.current().native_exact:
        assert result.native is None
    else:  # capping kernels: the model measured again with onnxruntime's defaults, as a fact about this CPU
        native = inference.predict(inference.session(int8_linear, native=True), SIGNATURE, test.images)
        exact = inference.predict(inference.session(int8_linear), SIGNATURE, test.images)
        assert result.native.differing == int((native != exact).sum())
        assert result.native.accuracy == float((native == test.labels).mean())
    float_signature = replace(SIGNATURE, input_name="x0", output_name="y0")
    floats = evaluate(linear_classifier(("N", 784)), float_signature, "float", test=test, latency=False)
    assert floats.engine == "float" and floats.native is None
    assert dict(evaluation_table(result).rows)["arithmetic"].startswith(f"exact int8 ({result.engine})")
    assert dict(evaluation_table(floats).rows)["arithmetic"] == "float (onnxruntime)"


def test_a_graph_the_option_misses_is_measured_exactly_on_any_cpu():
    # an opset-21 QLinearMatMul keeps its int8 weights under the option: on a capping CPU the compiled runtime
    # stands in (and says so); elsewhere onnxruntime's own kernels are exact. Either way the sums are exact.
    model, x, exact = _case("QLinearMatMul")
    model.opset_import[0].version = 21
    signature = Signature("x", "N784", None, "uint8", PRESETS["raw"], output_name="y")
    sess = inference.session(model, signature=signature)
    assert inference.engine_of(sess) == (engine.ENGINE_ORT if engine.current().native_exact else engine.ENGINE_COMPILED)
    assert np.array_equal(np.asarray(sess.run(None, {"x": x})[0]).reshape(exact.shape), exact.astype(np.float32))
