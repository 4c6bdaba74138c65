"""The pack pass on a LeNet-5 trained briefly on real MNIST, pruned, clustered, quantized and stripped as `max` does:
a smaller file after gzip and brotli, onnxruntime's scores bit for bit (its int8 kernels unchanged), the same
scores from the compiled module, whose wasm holds the weights as codes; a recipe keeps pack last."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from edgeshrink import engine, inference, packing, recipe
from edgeshrink.core.model import count_params
from edgeshrink.engine.probe import options
from edgeshrink.errors import RecipeError
from edgeshrink.finetune.config import FineTune
from edgeshrink.passes import REGISTRY, cluster, pack, quantize, strip
from edgeshrink.passes.prune import PruneConfig
from edgeshrink.passes.prune import run as prune
from edgeshrink.pipeline.runner import apply_safely
from edgeshrink.runtime import compile_model, sparse
from edgeshrink.runtime.wasm import feed_images, run_images
from edgeshrink.size import measure
from edgeshrink.zoo.export import to_onnx
from tests import nets
from tests.passes.prune.cases import context
from tests.passes.prune.conftest import one_torch_thread  # noqa: F401  (shared fixture)

DIGITS = 2000


@pytest.fixture(scope="module")
def int8_shared(mnist_dir, train_split):
    """LeNet-5 (tests/nets.py) 90% pruned, 32 shared values per layer, static full-range int8, short names (no
    fine-tuning): layers large enough that packing gains more than its decoding nodes cost, as in `max`."""
    lenet5 = to_onnx(nets.lenet5().module, "lenet5")
    ctx = context(lenet5, train_split, images=512)
    model = prune(lenet5, PruneConfig(method="unstructured", sparsity=0.9, scope="global", finetune=FineTune(epochs=0)), ctx)
    model = cluster.run(model, cluster.ClusterConfig(bits=5, finetune=FineTune(epochs=0)), ctx)
    model = quantize.run(model, quantize.QuantizeConfig(calibration_images=64, reduce_range=False), ctx)
    return strip.run(model, strip.StripConfig(), ctx), ctx


@pytest.fixture(scope="module")
def packed(int8_shared):
    model, ctx = int8_shared
    return pack.run(model, pack.PackConfig(), ctx)


def _scores(model, signature, pixels, exact_option: bool = False):
    sess = inference.session(model, threads=1, signature=signature) if not exact_option else None
    if exact_option:
        import onnxruntime as ort

        sess = ort.InferenceSession(model.SerializeToString(), options(True, 1), providers=["CPUExecutionProvider"])
    return inference.scores(sess, signature, pixels)


def test_packed_file_is_smaller_and_scores_bit_for_bit(int8_shared, packed, test_split):
    model, ctx = int8_shared
    onnx.checker.check_model(packed, full_check=True)
    assert packing.is_packed(packed) and not packing.is_packed(model)
    before, after = measure(model.SerializeToString()), measure(packed.SerializeToString())
    assert after.gzip < before.gzip and after.brotli < before.brotli, (before, after)
    pixels = test_split.images[:DIGITS]
    assert np.array_equal(_scores(model, ctx.signature, pixels), _scores(packed, ctx.signature, pixels))
    assert count_params(packed) == count_params(model)
    assert [i.name for i in packed.graph.input] == [i.name for i in model.graph.input]
    assert packed.metadata_props == model.metadata_props


def test_onnxruntime_runs_the_same_int8_kernels(int8_shared, packed, test_split):
    model, ctx = int8_shared
    for option in (False, True):  # and with the rewrite capping CPUs take (session.x64quantprecision)
        ops = [[n.op_type for n in engine.optimized(m, option).graph.node] for m in (model, packed)]
        assert ops[0] == ops[1] and "QLinearConv" in ops[0]
        assert engine.uncovered(packed, option) == engine.uncovered(model, option)
    pixels = test_split.images[:500]
    assert np.array_equal(_scores(model, ctx.signature, pixels, True), _scores(packed, ctx.signature, pixels, True))


def test_compiled_module_scores_bit_for_bit_and_holds_codes(packed, test_split, int8_shared, monkeypatch):
    _, ctx = int8_shared
    compiled = compile_model(packed, ctx.signature)
    assert "rt_unpack((uint8_t *)" in compiled.source
    pixels = test_split.images[:DIGITS]
    got = run_images(compiled, feed_images(ctx.signature, pixels))
    assert np.array_equal(got, _scores(packed, ctx.signature, pixels).astype(np.float32))
    monkeypatch.setattr(sparse, "choose", lambda consts: {})  # every weight dense, as before
    dense = compile_model(packed, ctx.signature)
    assert "rt_unpack((uint8_t *)" not in dense.source
    assert np.array_equal(run_images(dense, feed_images(ctx.signature, pixels[:200])), got[:200])
    coded_size, dense_size = measure(compiled.files["model.wasm"]), measure(dense.files["model.wasm"])
    assert coded_size.brotli < dense_size.brotli and coded_size.gzip < dense_size.gzip


def test_a_dense_layer_stays_as_it_is(int8_shared):
    model, ctx = int8_shared
    out = pack.run(model, pack.PackConfig(), ctx)
    dense = [name for name in pack.weights(model) if name not in packing.packed_weights(out)]
    assert dense, "the 10-row score layer is not worth its decoding nodes"
    assert any("pack: " in n for n in ctx.notes)


def test_other_steps_read_a_packed_input_unpacked(packed, int8_shared, test_split):
    _, ctx = int8_shared
    step = recipe.load("max").steps[-2]
    assert step.name == "strip"
    out, unsafe = apply_safely(step, packed, ctx, "packed")
    assert not unsafe and not packing.is_packed(out)
    assert "strip reads plain weights: the packed layers were unpacked first" in ctx.notes
    pixels = test_split.images[:300]
    assert np.array_equal(_scores(out, ctx.signature, pixels), _scores(packed, ctx.signature, pixels))


def test_pack_must_be_the_last_step(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("steps:\n  - pass: quantize\n  - pass: pack\n  - pass: strip\n")
    with pytest.raises(RecipeError, match=r"step 2 \(pack\) must be the last step: the passes after it read plain "
                                          r"weights; move it to the end"):
        recipe.load(str(path))
    assert recipe.load("max").steps[-1].name == "pack" and REGISTRY.get("pack").last
