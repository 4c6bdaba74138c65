"""reduce_range: int8 weights within [-64, 64], so onnxruntime's capping x86 kernels (no VNNI) sum exactly."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from edgeshrink import engine, inference, recipe
from edgeshrink.cli import main
from edgeshrink.finetune.config import FineTune
from edgeshrink.params import build_config
from edgeshrink.passes import fuse, quantize
from edgeshrink.passes.base import PassContext
from edgeshrink.passes.cluster import ClusterConfig
from edgeshrink.passes.cluster import run as cluster
from edgeshrink.passes.quantize import QuantizeConfig
from edgeshrink.passes.quantize.surgery import int8_weights

IMAGES = 300
LAYERS = 4  # bn_cnn: two Conv, two Gemm
def _widest(model: onnx.ModelProto) -> int:
    return max(int(np.abs(w.astype(np.int16)).max()) for w in int8_weights(model).values())


def _agreement(model, reference, signature, images) -> float:
    ours = inference.predict(inference.session(model, threads=1), signature, images)
    theirs = inference.predict(inference.session(reference, threads=1), signature, images)
    return float((ours == theirs).mean())


@pytest.mark.parametrize("mode", ["static", "dynamic"])
def test_reduce_range_keeps_every_int8_weight_within_64(mode, bn_cnn, train_split, test_split):
    model, signature = bn_cnn
    ctx = PassContext(signature, train_split)
    full = quantize.run(model, QuantizeConfig(mode=mode, calibration_images=100, reduce_range=False), ctx)
    out = quantize.run(model, QuantizeConfig(mode=mode, calibration_images=100), ctx)  # reduce_range by default
    onnx.checker.check_model(out)
    assert len(int8_weights(out)) == LAYERS
    assert _widest(full) == 127 and _widest(out) == 64  # the 7-bit range, used whole
    assert engine.uncovered(full, option=False) and engine.uncovered(out, option=False) == []
    assert _agreement(out, model, signature, test_split.images[:IMAGES]) >= 0.97


def test_reduce_range_after_cluster_keeps_one_code_per_shared_value(bn_cnn, train_split, test_split):
    """The shared values are re-gridded to max|w| / 64 steps, one scale a tensor: each keeps a single code."""
    model, signature = bn_cnn
    ctx = PassContext(signature, train_split)
    shared = cluster(fuse.run(model, fuse.FuseConfig(), ctx), ClusterConfig(bits=4, finetune=FineTune(epochs=0)), ctx)
    floats = {init.name: numpy_helper.to_array(init) for init in shared.graph.initializer}
    out = quantize.run(shared, QuantizeConfig(calibration_images=64, reduce_range=True), ctx)
    codes = int8_weights(out)
    assert len(codes) == LAYERS and _widest(out) == 64
    for name, q in codes.items():
        w = floats[name.removesuffix("_quantized")]
        pairs = np.unique(np.stack([w.ravel(), q.ravel().astype(np.float32)]), axis=1)
        assert len(np.unique(pairs[0])) == pairs.shape[1], name  # every shared value has exactly one code
        assert np.array_equal(q == 0, w == 0), name
    assert engine.uncovered(out, option=False) == []
    assert _agreement(out, shared, signature, test_split.images[:IMAGES]) >= 0.97


def test_mode_weights_ignores_reduce_range(bn_cnn, train_split):
    """Weights behind a DequantizeLinear are multiplied in float: no int8 sum to keep within int16."""
    model, signature = bn_cnn
    ctx = PassContext(signature, train_split)
    plain = quantize.run(model, QuantizeConfig(mode="weights", reduce_range=False), ctx)
    reduced = quantize.run(model, QuantizeConfig(mode="weights", reduce_range=True), ctx)
    assert reduced.SerializeToString() == plain.SerializeToString()
    assert _widest(plain) == 127 and engine.uncovered(plain, option=False) == []


def test_reduce_range_is_a_recipe_parameter_listed_with_its_help(capsys):
    step = next(s for s in recipe.load("max", ["quantize.reduce_range=true"]).steps if s.name == "quantize")
    assert step.config.reduce_range is True
    plain = next(s for s in recipe.load("max").steps if s.name == "quantize")
    assert plain.config.reduce_range is False  # max keeps full-range int8 for the page
    for name in ("fast", "dynamic", "default"):
        assert recipe.load(name).steps[-1].config.reduce_range is True
    with pytest.raises(ValueError, match="reduce_range must be true or false"):
        build_config(QuantizeConfig, {"reduce_range": "yes"})
    assert main(["passes"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "reduce_range" in out and "int8 weights within [-64, 64]" in out and "mode weights" in out
