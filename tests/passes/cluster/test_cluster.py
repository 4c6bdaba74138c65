"""The cluster pass: at most 2^bits shared values per layer, zeros kept, the input model's answers,
and int8 quantization afterwards keeps the sharing."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from edgeshrink.errors import PassError
from edgeshrink.finetune.config import FineTune
from edgeshrink.params import build_config
from edgeshrink.passes import quantize
from edgeshrink.passes.cluster import ClusterConfig, run
from edgeshrink.passes.int8grid import common_grid, on_int8_grid, weight_axes
from edgeshrink.passes.prune import PruneConfig
from edgeshrink.passes.prune import run as prune
from tests.passes.prune.cases import accuracy, context, predictions, values_of

WEIGHTS = ["w1", "w2", "fc1", "fc2"]


@pytest.fixture(scope="module")
def sparse_cnn(cnn, train_split):
    """The small CNN with 70% of its weights zeroed (no fine-tuning: only the zeros matter here)."""
    cfg = PruneConfig(method="unstructured", sparsity=0.7, scope="global", finetune=FineTune(epochs=0))
    return prune(cnn, cfg, context(cnn, train_split))


def _distinct(model: onnx.ModelProto) -> dict[str, int]:
    values = values_of(model)
    return {name: len(np.unique(values[name][values[name] != 0])) for name in WEIGHTS}


@pytest.mark.parametrize("bits", [3, 4])
def test_contract_shared_values_zeros_and_answers(sparse_cnn, train_split, test_split, bits):
    ctx = context(sparse_cnn, train_split, images=1024)
    out = run(sparse_cnn, ClusterConfig(bits=bits, finetune=FineTune(epochs=0.5, lr=2e-4, distill=True)), ctx)
    onnx.checker.check_model(out, full_check=True)
    assert all(n <= 2 ** bits for n in _distinct(out).values()), _distinct(out)
    before, after = values_of(sparse_cnn), values_of(out)
    for name in WEIGHTS:
        assert np.array_equal(after[name] == 0, before[name] == 0)  # pruned stays pruned, nothing else is zeroed
        assert on_int8_grid(after[name])
    assert [i.name for i in out.graph.input] == [i.name for i in sparse_cnn.graph.input]
    assert out.metadata_props == sparse_cnn.metadata_props
    images = test_split.images[:500]
    agree = (predictions(out, ctx.signature, images) == predictions(sparse_cnn, ctx.signature, images)).mean()
    assert agree >= (0.9 if bits == 3 else 0.95)
    assert accuracy(out, ctx.signature, test_split, 500) >= accuracy(sparse_cnn, ctx.signature, test_split, 500) - 0.05


def test_training_the_shared_values_beats_k_means_alone(sparse_cnn, train_split, test_split):
    ctx = context(sparse_cnn, train_split, images=2048)
    untrained = run(sparse_cnn, ClusterConfig(bits=2, finetune=FineTune(epochs=0)), ctx)
    trained = run(sparse_cnn, ClusterConfig(bits=2, finetune=FineTune(epochs=1, lr=1e-3, distill=True)), ctx)
    assert _distinct(trained) == _distinct(untrained)  # training moved the shared values, not the sharing
    assert values_of(trained)["fc1"].tolist() != values_of(untrained)["fc1"].tolist()
    assert accuracy(trained, ctx.signature, test_split) >= accuracy(untrained, ctx.signature, test_split)


def test_per_channel_codebooks(sparse_cnn, train_split):
    out = run(sparse_cnn, ClusterConfig(bits=2, per_channel=True, finetune=FineTune(epochs=0)), context(sparse_cnn, train_split))
    fc1 = values_of(out)["fc1"]
    assert all(len(np.unique(row[row != 0])) <= 4 for row in fc1)  # Gemm transB: a row is an output channel
    assert len(np.unique(fc1[fc1 != 0])) > 4


def test_quantize_after_cluster_keeps_one_code_per_shared_value(sparse_cnn, train_split):
    ctx = context(sparse_cnn, train_split, images=256)
    shared = run(sparse_cnn, ClusterConfig(bits=4, finetune=FineTune(epochs=0)), ctx)
    int8 = quantize.run(shared, quantize.QuantizeConfig(calibration_images=64), ctx)
    codes = {i.name: numpy_helper.to_array(i) for i in int8.graph.initializer if i.data_type == onnx.TensorProto.INT8}
    for name in WEIGHTS:
        q = codes[f"{name}_quantized"]
        assert len(np.unique(q[q != 0])) == _distinct(shared)[name]
        assert np.array_equal(q == 0, values_of(shared)[name] == 0)


def test_weight_axes_follow_the_layer_kind(cnn):
    assert weight_axes(cnn) == {"w1": 0, "w2": 0, "fc1": 0, "fc2": 0}  # Gemm with transB: rows are outputs


@pytest.mark.parametrize("params, message", [
    ({"bits": 1}, "bits must be between 2 and 8"),
    ({"bits": 9}, "bits must be between 2 and 8"),
    ({"lr": 0.0}, "lr must be greater than 0"),
    ({"finetune_epochs": -1.0}, "finetune_epochs must be 0 or more"),
])
def test_config_rejects_bad_values(params, message):
    with pytest.raises(ValueError, match=message):
        build_config(ClusterConfig, params)


def test_a_quantized_model_is_refused(cnn, train_split):
    ctx = context(cnn, train_split, images=64)
    int8 = quantize.run(cnn, quantize.QuantizeConfig(calibration_images=32), ctx)
    with pytest.raises(PassError, match="cannot cluster a quantized model; put cluster before quantize"):
        run(int8, ClusterConfig(finetune=FineTune(epochs=0)), ctx)


def test_one_grid_puts_every_layer_on_the_widest_layers_grid_and_quantize_stores_one_scale(sparse_cnn, train_split,
                                                                                          test_split):
    ctx = context(sparse_cnn, train_split, images=256)
    own = run(sparse_cnn, ClusterConfig(bits=4, finetune=FineTune(epochs=0)), ctx)
    one = run(sparse_cnn, ClusterConfig(bits=4, one_grid=True, finetune=FineTune(epochs=0)), ctx)
    values = values_of(one)
    step = np.float32(max(np.abs(values[name]).max() for name in WEIGHTS) / 127)
    assert common_grid([values[name] for name in WEIGHTS]) == step
    assert common_grid([values_of(own)[name] for name in WEIGHTS]) is None  # each layer on its own grid
    for name in WEIGHTS:
        assert np.array_equal(values[name] == 0, values_of(sparse_cnn)[name] == 0)
        assert 0 < _distinct(one)[name] <= 16
    weights_only = quantize.run(one, quantize.QuantizeConfig(mode="weights"), ctx)
    scales = {n.input[1] for n in weights_only.graph.node if n.op_type == "DequantizeLinear"}
    assert len(scales) == 1  # the weights' and the biases' DequantizeLinear read one scale
    images = test_split.images[:500]
    assert (predictions(weights_only, ctx.signature, images) == predictions(one, ctx.signature, images)).mean() >= 0.99
    overrides = quantize.surgery.shared_grid_overrides(one)
    assert {o["rmax"] for name in WEIGHTS for o in overrides[name]} == {np.float32(step * 127)}


def test_one_grid_and_per_channel_do_not_combine():
    with pytest.raises(ValueError, match="one_grid puts every layer on one grid; it cannot be combined with per_channel"):
        build_config(ClusterConfig, {"one_grid": True, "per_channel": True})
