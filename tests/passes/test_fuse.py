"""The fuse pass: onnxoptimizer fusions, BatchNorm1d folding, onnxruntime's basic level, plain ONNX out."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgeshrink import inference
from edgeshrink.core.model import is_quantized, op_histogram, stored_signature
from edgeshrink.errors import PassError
from edgeshrink.params import build_config
from edgeshrink.passes import fuse
from edgeshrink.passes.base import PassContext
from edgeshrink.passes.fuse import FuseConfig
from tests.passes.outputs import input_dims, scores
from tests.peers import peer_names

PEERS = peer_names()
IMAGES = 256


@pytest.mark.parametrize("onnxruntime_basic", [True, False])
def test_fuse_folds_batchnorm_into_conv(bn_cnn, train_split, test_split, onnxruntime_basic):
    model, signature = bn_cnn
    before = model.SerializeToString()
    ctx = PassContext(signature, train_split)
    out = fuse.run(model, FuseConfig(onnxruntime_basic=onnxruntime_basic), ctx)
    onnx.checker.check_model(out)
    assert model.SerializeToString() == before
    images = test_split.images[:IMAGES]
    np.testing.assert_allclose(scores(out, signature, images), scores(model, signature, images),
                               rtol=1e-4, atol=1e-4)
    assert "BatchNormalization" not in op_histogram(out)
    assert len(out.graph.node) == len(model.graph.node) - 2
    assert all(node.domain in ("", "ai.onnx") for node in out.graph.node)
    assert stored_signature(out) == signature
    assert input_dims(out) == input_dims(model) and [o.name for o in out.graph.output] == ["logits"]
    assert ctx.notes == []


@pytest.mark.parametrize("name", PEERS)
def test_fuse_every_peer(name, load_peer, train_split, test_split):
    model, signature = load_peer(name)
    out = fuse.run(model, FuseConfig(), PassContext(signature, train_split))
    onnx.checker.check_model(out)
    images = test_split.images[:IMAGES]
    np.testing.assert_allclose(scores(out, signature, images), scores(model, signature, images),
                               rtol=1e-4, atol=1e-4)
    assert len(out.graph.node) <= len(model.graph.node)
    assert all(node.domain in ("", "ai.onnx") for node in out.graph.node)
    assert input_dims(out) == input_dims(model)
    assert [o.name for o in out.graph.output] == [o.name for o in model.graph.output]
    assert stored_signature(out) == signature


FUSED_NODES = {  # peer -> nodes after fusing
    "torch_lenet_bn_batch10": 13,  # Unsqueeze -> BatchNormalization -> Squeeze folded into the next Gemm
    "zoo_mnist8": 8,  # CNTK weights listed as inputs: constants once they are not
    "keras_mlp_nhwc_raw255": 7,  # MatMul + Add -> Gemm
}


@pytest.mark.parametrize("name", peer_names(FUSED_NODES))
def test_fuse_shrinks_peer_graphs(name, load_peer, train_split):
    model, signature = load_peer(name)
    nodes = FUSED_NODES[name]
    out = fuse.run(model, FuseConfig(), PassContext(signature, train_split))
    assert len(out.graph.node) == nodes
    assert not {"BatchNormalization", "Unsqueeze", "Squeeze", "MatMul"} & set(op_histogram(out))


def _bn_gemm_graph(order: str, wrapped: bool) -> onnx.ModelProto:
    """x (N, 6) through Gemm(6 -> 4) and BatchNormalization(4 or 6), in `order`, optionally wrapped in
    Unsqueeze/Squeeze the way PyTorch 1.x exported BatchNorm1d."""
    rng = np.random.default_rng(0)
    features = 6 if order == "bn-gemm" else 4
    inits = [numpy_helper.from_array(a.astype(np.float32), n) for n, a in [
        ("w", rng.normal(size=(4, 6))), ("c", rng.normal(size=(1, 4))),
        ("gamma", rng.uniform(0.5, 2, features)), ("beta", rng.normal(size=features)),
        ("mean", rng.normal(size=features)), ("var", rng.uniform(0.5, 2, features)),
    ]]
    bn = [helper.make_node("BatchNormalization", ["b_in", "gamma", "beta", "mean", "var"], ["b_out"], epsilon=1e-3)]
    if wrapped:
        inits.append(numpy_helper.from_array(np.array([2], np.int64), "axes"))
        bn = ([helper.make_node("Unsqueeze", ["b_x", "axes"], ["b_in"])] + bn
              + [helper.make_node("Squeeze", ["b_out", "axes"], ["b_y"])])
    bn_in, bn_out = ("b_x", "b_y") if wrapped else ("b_in", "b_out")
    gemm_in, gemm_out = ("x", bn_in) if order == "gemm-bn" else (bn_out, "y")
    gemm = helper.make_node("Gemm", [gemm_in, "w", "c"], [gemm_out], alpha=0.5, beta=2.0, transB=1)
    nodes = [gemm] + bn if order == "gemm-bn" else bn + [gemm]
    rename = {bn_in: "x"} if order == "bn-gemm" else {bn_out: "y"}
    for node in nodes:
        node.input[:] = [rename.get(i, i) for i in node.input]
        node.output[:] = [rename.get(o, o) for o in node.output]
    graph = helper.make_graph(nodes, "bn_gemm", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 6])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


@pytest.mark.parametrize("order", ["gemm-bn", "bn-gemm"])
@pytest.mark.parametrize("wrapped", [False, True])
def test_fuse_folds_batchnorm1d_into_gemm(order, wrapped, bn_cnn, train_split):
    model = _bn_gemm_graph(order, wrapped)
    onnx.checker.check_model(model)
    out = fuse.run(model, FuseConfig(onnxruntime_basic=False), PassContext(bn_cnn[1], train_split))
    onnx.checker.check_model(out)
    assert op_histogram(out) == {"Gemm": 1}
    x = np.random.default_rng(1).normal(size=(5, 6)).astype(np.float32)
    expected, = ort.InferenceSession(model.SerializeToString()).run(None, {"x": x})
    got, = ort.InferenceSession(out.SerializeToString()).run(None, {"x": x})
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_fuse_folds_batchnorm_into_a_grouped_conv_without_bias(bn_cnn, train_split):
    rng = np.random.default_rng(2)
    inits = [numpy_helper.from_array(a.astype(np.float32), n) for n, a in [
        ("w", rng.normal(size=(4, 1, 3, 3))), ("gamma", rng.uniform(0.5, 2, 4)), ("beta", rng.normal(size=4)),
        ("mean", rng.normal(size=4)), ("var", rng.uniform(0.5, 2, 4)),
    ]]
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], group=2, pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["c", "gamma", "beta", "mean", "var"], ["y"])]
    graph = helper.make_graph(nodes, "conv_bn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2, 5, 5])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4, 5, 5])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    out = fuse.run(model, FuseConfig(onnxruntime_basic=False), PassContext(bn_cnn[1], train_split))
    assert op_histogram(out) == {"Conv": 1}
    x = rng.normal(size=(3, 2, 5, 5)).astype(np.float32)
    expected, = ort.InferenceSession(model.SerializeToString()).run(None, {"x": x})
    got, = ort.InferenceSession(out.SerializeToString()).run(None, {"x": x})
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_fuse_keeps_the_portable_graph_when_onnxruntime_adds_contrib_ops(bn_cnn, train_split, monkeypatch):
    real = fuse._onnxruntime_basic

    def with_contrib_op(model, name):
        out = real(model, name)
        out.graph.node.append(helper.make_node("FusedConv", ["image"], ["unused"], domain="com.microsoft"))
        return out

    monkeypatch.setattr(fuse, "_onnxruntime_basic", with_contrib_op)
    model, signature = bn_cnn
    ctx = PassContext(signature, train_split)
    out = fuse.run(model, FuseConfig(), ctx)
    assert all(node.domain == "" for node in out.graph.node)
    assert "BatchNormalization" not in op_histogram(out)  # onnxoptimizer's fusions are kept
    assert ctx.notes == ["fuse: kept the onnxoptimizer result; onnxruntime's basic level added com.microsoft operators"]


def test_fuse_leaves_int8_weights_alone(quantized_cnn, bn_cnn, train_split, test_split):
    _, signature = bn_cnn
    out = fuse.run(quantized_cnn, FuseConfig(), PassContext(signature, train_split))
    onnx.checker.check_model(out)
    assert is_quantized(out) and out.ByteSize() < 1.1 * quantized_cnn.ByteSize()
    images = test_split.images[:IMAGES]
    assert (inference.predict(inference.session(out), signature, images)
            == inference.predict(inference.session(quantized_cnn), signature, images)).all()


def test_onnxoptimizer_failure_becomes_pass_error(bn_cnn, train_split, monkeypatch):
    import onnxoptimizer

    def broken(model, passes, fixed_point):
        raise IndexError("vector::_M_range_check")

    monkeypatch.setattr(onnxoptimizer, "optimize", broken)
    model, signature = bn_cnn
    with pytest.raises(PassError, match=r"^onnxoptimizer failed on model 'main_graph': IndexError: vector"):
        fuse.run(model, FuseConfig(), PassContext(signature, train_split))


def test_onnxruntime_failure_becomes_pass_error(bn_cnn, train_split, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("[ONNXRuntimeError] : 10 : INVALID_GRAPH : bad node\ndetails")

    monkeypatch.setattr(ort, "InferenceSession", broken)
    model, signature = bn_cnn
    with pytest.raises(PassError, match=r"^onnxruntime's basic optimization failed on model 'main_graph': "
                                        r"RuntimeError: \[ONNXRuntimeError\] : 10 : INVALID_GRAPH : bad node$"):
        fuse.run(model, FuseConfig(), PassContext(signature, train_split))


@pytest.mark.parametrize("params, message", [
    ({"onnxruntime_basic": "yes"}, "onnxruntime_basic must be true or false"),
    ({"passes": ["fuse_bn_into_conv"]}, "unknown parameter"),
])
def test_config_errors(params, message):
    with pytest.raises(ValueError, match=message):
        build_config(FuseConfig, params)
    if "onnxruntime_basic" in params:
        with pytest.raises(ValueError, match=message):
            FuseConfig(**params)


def test_default_passes_exist_in_onnxoptimizer():
    import onnxoptimizer

    assert set(fuse.OPTIMIZER_PASSES) <= set(onnxoptimizer.get_available_passes())
