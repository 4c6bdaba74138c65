"""Whole models in Node against onnxruntime on real MNIST test images: the peers' models with `fast`
(bit-identical int8 scores) and a LeNet-5 with `default`. A slice here; bench/runtime_exactness.py
runs all 10,000."""

import numpy as np
import pytest

from edgeshrink import api
from tests import nets
from tests.peers import peer_names, peer_path
from tests.runtime.recipes_run import apply_recipe, compiled_vs_onnxruntime

SLICE = 300


@pytest.mark.parametrize("name", peer_names())
def test_peer_fast_bit_identical(name, train_split, test_split):
    opened = api.open_model(peer_path(name))
    proto, found = opened.model, opened.detection
    model = apply_recipe(proto, found.signature, "fast", train_split, ["quantize.calibration_images=100"])
    got, want = compiled_vs_onnxruntime(model, found.signature, test_split.images[:SLICE])
    assert np.array_equal(got.view(np.uint32), want.view(np.uint32))


@pytest.mark.parametrize("name", peer_names())
def test_peer_float_same_classes(name, test_split):
    opened = api.open_model(peer_path(name))
    proto, found = opened.model, opened.detection
    got, want = compiled_vs_onnxruntime(proto, found.signature, test_split.images[:SLICE])
    assert (got.argmax(1) == want.argmax(1)).all()
    assert np.abs(got - want).max() < 1e-3


@pytest.fixture(scope="module")
def lenet5(tmp_path_factory, mnist_dir):
    from edgeshrink import zoo

    path = tmp_path_factory.mktemp("lenet5") / "lenet5.onnx"
    zoo.export(nets.lenet5(), path)
    opened = api.open_model(path)
    return opened.model, opened.detection


def test_lenet5_default_bit_identical(lenet5, train_split, test_split):
    proto, found = lenet5
    overrides = ["prune.finetune_epochs=1", "quantize.calibration_images=100"]
    model = apply_recipe(proto, found.signature, "default", train_split, overrides)
    got, want = compiled_vs_onnxruntime(model, found.signature, test_split.images[:SLICE])
    assert np.array_equal(got.view(np.uint32), want.view(np.uint32))


@pytest.mark.parametrize("overrides, exact", [
    (["quantize.format=QOperator"], True),  # its float last Gemm follows MLAS's packed SGEMM
    (["quantize.activation_type=int8"], True),
    (["quantize.mode=weights"], False),  # int8 weights that onnxruntime folds to float: float kernels
])
def test_lenet5_quantized_forms(lenet5, train_split, test_split, overrides, exact):
    from edgeshrink.runtime import compile_model

    proto, found = lenet5
    model = apply_recipe(proto, found.signature, "fast", train_split, ["quantize.calibration_images=100", *overrides])
    assert compile_model(model, found.signature).exact is exact
    got, want = compiled_vs_onnxruntime(model, found.signature, test_split.images[:SLICE])
    if exact:
        assert np.array_equal(got.view(np.uint32), want.view(np.uint32))
    else:
        assert (got.argmax(1) == want.argmax(1)).all() and np.abs(got - want).max() < 1e-3



@pytest.mark.parametrize("recipe, exact, page", [("fast", True, "small"), (None, False, "fast")])
def test_the_small_build_computes_the_same_and_pages_take_it_where_code_is_the_bulk(recipe, exact, page, tmp_path,
                                                                                    train_split, test_split):
    """-Os instead of -O3 keeps the arithmetic and its order: int8 scores stay onnxruntime's bit for bit, float
    ones the fast build's. A page takes the small build for zoo8 in int8 (5,994 one-byte weights: the code is a
    large share of the module), not in float (24 KB of weights: the code it saves is a few percent)."""
    from edgeshrink import zoo
    from edgeshrink.runtime import compile_model
    from edgeshrink.runtime.compiler import PAGE_SHARE
    from edgeshrink.size import measure

    zoo.export(nets.small_cnn(), tmp_path / "zoo8.onnx")
    opened = api.open_model(tmp_path / "zoo8.onnx")
    proto, signature = opened.model, opened.detection.signature
    model = apply_recipe(proto, signature, recipe, train_split, ["quantize.calibration_images=100"]) if recipe else proto
    pixels = test_split.images[:SLICE]
    got, want = compiled_vs_onnxruntime(model, signature, pixels, build="small")
    fast, _ = compiled_vs_onnxruntime(model, signature, pixels)
    assert np.array_equal(got.view(np.uint32), fast.view(np.uint32))
    if exact:
        assert np.array_equal(got.view(np.uint32), want.view(np.uint32))
    sizes = {b: measure(compile_model(model, signature, build=b).files["model.wasm"]).brotli for b in ("fast", "small")}
    chosen = compile_model(model, signature, build="page")
    assert chosen.build == page and measure(chosen.files["model.wasm"]).brotli == sizes[page]
    assert (sizes["fast"] - sizes["small"] >= PAGE_SHARE * sizes["fast"]) == (page == "small")
