"""The simplify pass: onnx-simplifier, with its (model, ok) turned into errors and the interface kept."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from edgeshrink import detect
from edgeshrink.core.model import is_quantized, op_histogram, stored_signature
from edgeshrink.core.signature import PRESETS
from edgeshrink.errors import PassError
from edgeshrink.params import build_config
from edgeshrink.passes import simplify
from edgeshrink.passes.base import PassContext
from edgeshrink.passes.simplify import SimplifyConfig
from tests import exporters, nets
from tests.passes.outputs import input_dims, scores
from tests.peers import peer_names

PEERS = peer_names()
IMAGES = 256


@pytest.mark.parametrize("fuse_bn", [True, False])
def test_simplify_matches_the_input_model(bn_cnn, train_split, test_split, fuse_bn):
    model, signature = bn_cnn
    before = model.SerializeToString()
    out = simplify.run(model, SimplifyConfig(fuse_bn=fuse_bn), PassContext(signature, train_split))
    onnx.checker.check_model(out)
    assert model.SerializeToString() == before  # the caller's model is untouched
    images = test_split.images[:IMAGES]
    np.testing.assert_allclose(scores(out, signature, images), scores(model, signature, images),
                               rtol=1e-4, atol=1e-4)
    assert len(out.graph.node) <= len(model.graph.node)
    assert ("BatchNormalization" in op_histogram(out)) is not fuse_bn
    assert stored_signature(out) == signature
    assert [p.key for p in out.metadata_props] == [p.key for p in model.metadata_props]  # no onnxsim.* keys
    assert input_dims(out) == input_dims(model) and input_dims(out)[0][1] == "batch"  # the batch stays dynamic
    assert [o.name for o in out.graph.output] == ["logits"]


@pytest.mark.parametrize("name", PEERS)
def test_simplify_every_peer(name, load_peer, train_split, test_split):
    model, signature = load_peer(name)
    out = simplify.run(model, SimplifyConfig(), PassContext(signature, train_split))
    onnx.checker.check_model(out)
    images = test_split.images[:IMAGES]
    np.testing.assert_allclose(scores(out, signature, images), scores(model, signature, images),
                               rtol=1e-4, atol=1e-4)
    assert len(out.graph.node) <= len(model.graph.node)
    assert input_dims(out) == input_dims(model)
    assert [o.name for o in out.graph.output] == [o.name for o in model.graph.output]
    assert stored_signature(out) == signature


def test_simplify_shrinks_the_dynamo_export(train_split):
    """PyTorch 2.6's dynamo export wraps every Conv in Unsqueeze/Squeeze and transposes weights at run time."""
    model = exporters.dynamo_nobatch(nets.pool_cnn())
    signature = detect.structure(model).with_preprocess(PRESETS["unit"])
    out = simplify.run(model, SimplifyConfig(), PassContext(signature, train_split))
    assert len(out.graph.node) <= len(model.graph.node) - 10
    assert "Transpose" not in op_histogram(out) and "Constant" not in op_histogram(out)


def test_simplify_leaves_int8_weights_alone(quantized_cnn, bn_cnn, train_split):
    """onnxsim once folded DequantizeLinear back into float weights (onnxsim issue 216)."""
    _, signature = bn_cnn
    out = simplify.run(quantized_cnn, SimplifyConfig(), PassContext(signature, train_split))
    assert is_quantized(out)
    assert out.ByteSize() < 1.1 * quantized_cnn.ByteSize()


def test_failed_check_becomes_pass_error(bn_cnn, train_split, monkeypatch):
    import onnxsim

    monkeypatch.setattr(onnxsim, "simplify", lambda model, **kwargs: (model, False))
    model, signature = bn_cnn
    with pytest.raises(PassError, match=r"could not verify model 'main_graph'.*check_n: 0"):
        simplify.run(model, SimplifyConfig(), PassContext(signature, train_split))


def test_onnxsim_exception_becomes_pass_error(bn_cnn, train_split, monkeypatch):
    import onnxsim

    def broken(model, **kwargs):
        raise RuntimeError("shape inference failed\nlong C++ trace")

    monkeypatch.setattr(onnxsim, "simplify", broken)
    model, signature = bn_cnn
    expected = r"^onnx-simplifier failed on model 'main_graph': RuntimeError: shape inference failed$"
    with pytest.raises(PassError, match=expected):
        simplify.run(model, SimplifyConfig(), PassContext(signature, train_split))


def test_renamed_output_becomes_pass_error(bn_cnn, train_split, monkeypatch):
    import onnxsim

    def renaming(model, **kwargs):
        out = onnx.ModelProto()
        out.CopyFrom(model)
        out.graph.output[0].name = "renamed"
        return out, True

    monkeypatch.setattr(onnxsim, "simplify", renaming)
    model, signature = bn_cnn
    with pytest.raises(PassError, match=r"onnx-simplifier renamed the inputs or outputs of model 'main_graph'"):
        simplify.run(model, SimplifyConfig(), PassContext(signature, train_split))


@pytest.mark.parametrize("params, message", [
    ({"check_n": -1}, "check_n must be between 0 and 100, not -1"),
    ({"check_n": 1000}, "check_n must be between 0 and 100, not 1000"),
    ({"check_n": "3"}, "check_n must be a whole number"),
    ({"fuse_bn": "no"}, "fuse_bn must be true or false"),
    ({"checks": 1}, "unknown parameter"),
])
def test_config_errors(params, message):
    with pytest.raises(ValueError, match=message):
        build_config(SimplifyConfig, params)


def test_spec():
    assert simplify.SPEC.name == "simplify" and simplify.SPEC.config is SimplifyConfig
    assert not simplify.SPEC.quantizes
