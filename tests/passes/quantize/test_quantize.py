"""The quantize pass and its MNIST calibration reader; the fast and dynamic recipes on every peer."""

from __future__ import annotations

import contextlib

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgeshrink import inference
from edgeshrink.core.model import graph_inputs, is_quantized, op_histogram, stored_signature
from edgeshrink.core.signature import PRESETS, Signature
from edgeshrink.errors import PassError
from edgeshrink.params import build_config
from edgeshrink.passes import fuse, quantize, simplify
from edgeshrink.passes.base import PassContext
from edgeshrink.passes.quantize import QuantizeConfig, surgery
from edgeshrink.passes.quantize.calibration import DYNAMIC_CHUNK
from tests.models import linear_classifier
from tests.peers import peer_names

PEERS = peer_names()
IMAGES = 500
INT8 = (TensorProto.INT8, TensorProto.UINT8)


def _agreement(model, reference, signature, images) -> float:
    ours = inference.predict(inference.session(model, threads=1), signature, images)
    theirs = inference.predict(inference.session(reference, threads=1), signature, images)
    return float((ours == theirs).mean())


def _weight_elements(model, types) -> int:
    """Elements of initializers with two or more dimensions (weights, not scales or zero points)."""
    return sum(int(np.prod(i.dims)) for i in model.graph.initializer if len(i.dims) >= 2 and i.data_type in types)


def _check_interface(out, model, signature):
    onnx.checker.check_model(out)
    assert stored_signature(out) == signature
    assert [o.name for o in out.graph.output] == [o.name for o in model.graph.output]
    assert [i.name for i in graph_inputs(out)] == [i.name for i in graph_inputs(model)]


def test_static_qdq_default(bn_cnn, quantized_cnn, test_split):
    model, signature = bn_cnn
    out = quantized_cnn
    _check_interface(out, model, signature)
    assert graph_inputs(out)[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert _agreement(out, model, signature, test_split.images[:IMAGES]) >= 0.98
    # every Conv and Gemm weight is stored as int8 and read through DequantizeLinear
    int8 = {i.name for i in out.graph.initializer if i.data_type == TensorProto.INT8 and len(i.dims) >= 2}
    dequantized = {node.input[0] for node in out.graph.node if node.op_type == "DequantizeLinear"}
    assert len(int8) == 4 and int8 <= dequantized
    assert _weight_elements(out, (TensorProto.FLOAT,)) == 0
    assert model.ByteSize() / out.ByteSize() > 3
    # the class scores stay float: the last Gemm's output is not quantized
    last = next(node for node in out.graph.node if "logits" in node.output)
    assert last.op_type == "Gemm"


def test_static_reports_calibration_progress(bn_cnn, train_split):
    model, signature = bn_cnn
    calls, advanced = [], []

    @contextlib.contextmanager
    def track(description, total):
        calls.append((description, total))
        yield advanced.append

    ctx = PassContext(signature, train_split, track=track)
    quantize.run(model, QuantizeConfig(calibration_images=250, calibration="Percentile"), ctx)
    assert calls == [("calibrate", 250)]
    assert sum(advanced) == 250 and advanced[0] == DYNAMIC_CHUNK


def test_static_qoperator(bn_cnn, train_split, test_split):
    model, signature = bn_cnn
    out = quantize.run(model, QuantizeConfig(format="QOperator"), PassContext(signature, train_split))
    _check_interface(out, model, signature)
    assert op_histogram(out).get("QLinearConv") == 2
    assert _agreement(out, model, signature, test_split.images[:IMAGES]) >= 0.97


def test_dynamic(bn_cnn, train_split, test_split):
    model, signature = bn_cnn
    out = quantize.run(model, QuantizeConfig(mode="dynamic"), PassContext(signature, train_split))
    _check_interface(out, model, signature)
    ops = op_histogram(out)
    assert ops.get("ConvInteger") == 2 and ops.get("MatMulInteger") == 2
    assert _weight_elements(out, INT8) == _weight_elements(model, (TensorProto.FLOAT,))
    assert _agreement(out, model, signature, test_split.images[:IMAGES]) >= 0.98
    assert model.ByteSize() / out.ByteSize() > 3


def test_weights_only(bn_cnn, train_split, test_split):
    model, signature = bn_cnn
    out = quantize.run(model, QuantizeConfig(mode="weights"), PassContext(signature, train_split))
    _check_interface(out, model, signature)
    # 4 weights, and the 4 layers' biases as int32 multiples of their weight's scale
    assert op_histogram(out).get("DequantizeLinear") == 8 and "QuantizeLinear" not in op_histogram(out)
    assert is_quantized(out)
    assert _agreement(out, model, signature, test_split.images[:IMAGES]) >= 0.98
    before = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    after = {i.name: numpy_helper.to_array(i) for i in out.graph.initializer}
    producer = {n.output[0]: n for n in out.graph.node}
    layers = [n for n in out.graph.node if n.op_type in ("Conv", "Gemm") and len(n.input) > 2]
    assert len(layers) == 4
    for layer in layers:
        weight, bias = producer[layer.input[1]], producer[layer.input[2]]
        assert bias.op_type == "DequantizeLinear" and bias.input[1] == weight.input[1]  # the weight's scale
        multiples, scale = after[bias.input[0]], after[weight.input[1]]
        assert multiples.dtype == np.int32
        assert np.abs(multiples * scale - before[layer.input[2]]).max() <= scale.max() / 2 + 1e-7
    assert model.ByteSize() / out.ByteSize() > 3


def test_already_quantized_model_is_skipped_with_a_note(bn_cnn, quantized_cnn, train_split):
    ctx = PassContext(bn_cnn[1], train_split)
    out = quantize.run(quantized_cnn, QuantizeConfig(mode="dynamic"), ctx)
    assert out.SerializeToString() == quantized_cnn.SerializeToString() and out is not quantized_cnn
    assert ctx.notes == ["quantize skipped: the model is already quantized"]


def test_preprocessing_failure_is_noted_and_quantization_goes_on(bn_cnn, train_split, monkeypatch):
    from onnxruntime.quantization import shape_inference

    def broken(*args, **kwargs):
        raise AttributeError("'NoneType' object has no attribute 'HasField'")

    monkeypatch.setattr(shape_inference, "quant_pre_process", broken)
    model, signature = bn_cnn
    ctx = PassContext(signature, train_split)
    out = quantize.run(model, QuantizeConfig(mode="dynamic"), ctx)
    assert is_quantized(out)
    assert ctx.notes == ["quantize: onnxruntime pre-processing failed (AttributeError: 'NoneType' object has "
                         "no attribute 'HasField'); quantized without it"]


def test_quantizer_failure_becomes_pass_error(bn_cnn, train_split, monkeypatch):
    import onnxruntime.quantization as ortq

    def broken(*args, **kwargs):
        raise ValueError("The truth value of an array with more than one element is ambiguous.")

    monkeypatch.setattr(ortq, "quantize_static", broken)
    model, signature = bn_cnn
    with pytest.raises(PassError, match=r"^quantizing model 'main_graph' failed: ValueError: The truth value"):
        quantize.run(model, QuantizeConfig(), PassContext(signature, train_split))


def test_opset_upgrade_failure_becomes_pass_error(bn_cnn, train_split, monkeypatch):
    from onnx import version_converter

    def broken(model, target):
        raise RuntimeError("No Adapter For Reshape")

    monkeypatch.setattr(version_converter, "convert_version", broken)
    model, signature = bn_cnn
    old = onnx.ModelProto()
    old.CopyFrom(model)
    old.opset_import[0].version = 12
    with pytest.raises(PassError, match=r"^cannot upgrade model 'main_graph' from opset 12 to 13 for "
                                        r"quantization: RuntimeError: No Adapter For Reshape$"):
        quantize.run(old, QuantizeConfig(mode="dynamic"), PassContext(signature, train_split))


def test_renamed_output_becomes_pass_error(bn_cnn, train_split, monkeypatch):
    def renaming(model, node_name):
        model.graph.output[0].name = "renamed"

    monkeypatch.setattr(surgery, "unquantize_output", renaming)
    model, signature = bn_cnn
    with pytest.raises(PassError, match=r"quantizing renamed the inputs or outputs of model 'main_graph'"):
        quantize.run(model, QuantizeConfig(calibration_images=50), PassContext(signature, train_split))


@pytest.mark.parametrize("params, message", [
    ({"calibration": "Bogus"}, "calibration must be one of MinMax, Entropy, Percentile, not 'Bogus'"),
    ({"calibration_images": 0}, "calibration_images must be between 1 and 60000"),
    ({"calibration_images": 60001}, "calibration_images must be between 1 and 60000"),
    ({"calibration_images": 1.5}, "calibration_images must be a whole number"),
    ({"mode": "fast"}, "mode must be one of static, dynamic"),
    ({"activation_type": "int8", "weight_type": "uint8"}, "activation_type int8 needs weight_type int8"),
    ({"per_channel": "yes"}, "per_channel must be true or false"),
    ({"bits": 4}, "unknown parameter"),
])
def test_config_errors(params, message):
    with pytest.raises(ValueError, match=message):
        build_config(QuantizeConfig, params)


def test_config_checks_direct_construction_too():
    with pytest.raises(ValueError, match="calibration must be one of"):
        QuantizeConfig(calibration="KL")
    with pytest.raises(ValueError, match="calibration_images must be between"):
        QuantizeConfig(calibration_images=0)


def test_spec():
    assert quantize.SPEC.name == "quantize" and quantize.SPEC.config is QuantizeConfig and quantize.SPEC.quantizes


@pytest.mark.parametrize("name", PEERS)
def test_fast_and_dynamic_recipes_on_every_peer(name, load_peer, train_split, test_split):
    """simplify -> fuse -> quantize (static, then dynamic): the product promises both work on every peer."""
    model, signature = load_peer(name)
    ctx = PassContext(signature, train_split)
    fused = fuse.run(simplify.run(model, simplify.SimplifyConfig(), ctx), fuse.FuseConfig(), ctx)
    images = test_split.images[-IMAGES:]
    floats = _weight_elements(fused, (TensorProto.FLOAT,))
    for mode in ("static", "dynamic"):
        out = quantize.run(fused, QuantizeConfig(mode=mode, calibration_images=200), ctx)
        _check_interface(out, model, signature)
        assert is_quantized(out)
        assert _weight_elements(out, INT8) >= 0.95 * floats  # every weight matrix and kernel is 8-bit
        assert _agreement(out, model, signature, images) >= 0.97, mode
        if floats > 20000:
            assert out.ByteSize() < 0.5 * model.ByteSize(), mode
    assert ctx.notes == []


@pytest.mark.parametrize("name", peer_names(["zoo_mnist8", "torch_dynamo_nobatch", "keras_mlp_nhwc_raw255"]))
def test_static_quantization_alone_on_awkward_peers(name, load_peer, train_split, test_split):
    """CNTK weights listed as inputs at opset 8; a dynamo export whose weights are transposed at run time
    (pre-processing folds them); a Keras MLP on 0..255 pixels whose logits tie if quantized."""
    model, signature = load_peer(name)
    ctx = PassContext(signature, train_split)
    out = quantize.run(model, QuantizeConfig(), ctx)
    _check_interface(out, model, signature)
    assert _agreement(out, model, signature, test_split.images[:IMAGES]) >= 0.99
    floats = sum(int(np.prod(i.dims)) for i in model.graph.initializer if i.data_type == TensorProto.FLOAT)
    assert _weight_elements(out, INT8) >= 0.9 * floats
    assert len(ctx.notes) <= 1  # the dynamo export may need pre-processing without symbolic shapes


def test_a_model_too_small_to_shrink_gets_a_note(tiny_cnn, train_split):
    model = onnx.load(str(tiny_cnn))  # 906 parameters
    signature = stored_signature(model)
    ctx = PassContext(signature, train_split)
    out = quantize.run(model, QuantizeConfig(calibration_images=100), ctx)
    assert out.ByteSize() >= model.ByteSize()
    assert ctx.notes == [f"quantize: the int8 model ({out.ByteSize():,} bytes) is not smaller than the float one "
                         f"({model.ByteSize():,} bytes): too few weights for 8 bits to pay off"]


def test_float_scores_keep_a_final_relu(train_split):
    """A ReLU after the score layer is folded into its QuantizeLinear: that layer then stays float."""
    model = linear_classifier(input_shape=("N", 784))
    model.graph.node[-1].output[0] = "pre"
    model.graph.node.append(helper.make_node("Relu", ["pre"], ["y0"]))
    signature = Signature("x0", "N784", None, "float32", PRESETS["unit"], output_name="y0")
    images = train_split.images[:50]
    out = quantize.run(model, QuantizeConfig(calibration_images=50), PassContext(signature, train_split))
    assert op_histogram(out).get("Relu") == 1 and _weight_elements(out, INT8) == 0
    expected = inference.scores(inference.session(model), signature, images)
    np.testing.assert_allclose(inference.scores(inference.session(out), signature, images), expected, atol=1e-5)


def test_float_scores_off_quantizes_the_last_output(bn_cnn, train_split):
    model, signature = bn_cnn
    out = quantize.run(model, QuantizeConfig(float_scores=False, calibration_images=100),
                       PassContext(signature, train_split))
    last = next(node for node in out.graph.node if "logits" in node.output)
    assert last.op_type == "DequantizeLinear"
    assert numpy_helper.to_array(next(i for i in out.graph.initializer if i.name == last.input[1])).size == 1
