"""README promises about measuring models: exact sizes and parameter counts, latency, compare --json, the
order in which preprocessing is chosen, and the input forms it takes (NHWC3, float64, fixed batches with a
remainder), through `edgeshrink evaluate|compare|optimize` processes."""

from __future__ import annotations

import gzip
import json

import brotli
import numpy as np
import pytest
from onnx import numpy_helper

from edgeshrink import inference
from edgeshrink.core import model as model_io
from edgeshrink.core.signature import PRESETS, Signature
from tests.models import save
from tests.readme import forms
from tests.readme.cli import edgeshrink


def _evaluate(path, *args) -> dict:
    return json.loads(edgeshrink("evaluate", path, "--json", *args).raw)


@pytest.fixture(scope="module")
def reference(small_cnn, test_split) -> dict:
    """The small CNN's answers computed here, with onnxruntime directly: correct count and weights."""
    proto = model_io.load(small_cnn)
    sess = inference.session(proto)
    x = (test_split.images.astype(np.float32) / 255 - 0.1307) / 0.3081
    logits = sess.run(None, {"input": x[:, None]})[0]
    weights = [numpy_helper.to_array(init) for init in proto.graph.initializer if init.data_type == 1]
    return {"correct": int((logits.argmax(1) == test_split.labels).sum()),
            "params": sum(w.size for w in weights if w.size > 1),
            "nonzero": sum(int(np.count_nonzero(w)) for w in weights if w.size > 1)}


@pytest.fixture(scope="module")
def evaluated(small_cnn) -> dict:
    return _evaluate(small_cnn)


def test_evaluate_counts_every_test_image_exactly(evaluated, reference):
    assert evaluated["total"] == 10_000 and evaluated["correct"] == reference["correct"]
    assert evaluated["accuracy"] == reference["correct"] / 10_000  # not rounded
    assert evaluated["params_total"] == reference["params"] and evaluated["params_nonzero"] == reference["nonzero"]


def test_evaluate_sizes_are_the_bytes_a_browser_downloads(evaluated, small_cnn):
    data = small_cnn.read_bytes()
    assert evaluated["size"] == {"raw": len(data), "gzip": len(gzip.compress(data, compresslevel=9, mtime=0)),
                                 "brotli": len(brotli.compress(data, quality=11))}


def test_evaluate_latency_is_measured_on_one_image_and_a_throughput_batch(evaluated):
    latency = evaluated["latency"]
    assert latency["batch"] == 1 and latency["runs"] >= 50 and latency["throughput_batch"] == 256
    assert 0 < latency["median_ms"] <= latency["p90_ms"] < 1000 and latency["throughput_ips"] > 0


def test_evaluate_table_says_where_the_preprocessing_came_from(small_cnn, reference):
    out = edgeshrink("evaluate", small_cnn, "--no-latency").out
    percent = f"{100 * reference['correct'] / 10_000:.2f}%"
    assert f"accuracy {percent} ({reference['correct']:,}/10,000 MNIST test images)" in out
    assert "preprocessing mnist (metadata)" in out and "latency (ORT CPU, 1 thread) -" in out


def test_preprocess_option_beats_metadata_which_beats_detection(small_cnn, tmp_path, reference):
    """The small CNN was trained on mnist-normalized pixels and says so in its metadata."""
    forced = _evaluate(small_cnn, "--preprocess", "raw", "--no-latency")
    assert forced["preprocess"] == "raw" and forced["preprocess_source"] == "option"
    assert forced["correct"] < reference["correct"]  # fed 0..255, it is (visibly) worse
    # metadata that lies is still obeyed: it beats detection
    proto = model_io.load(small_cnn)
    stored = model_io.stored_signature(proto)
    lying = save(model_io.with_signature(proto, stored.with_preprocess(PRESETS["symmetric"])), tmp_path / "lying.onnx")
    obeyed = _evaluate(lying, "--no-latency")
    assert obeyed["preprocess"] == "symmetric" and obeyed["preprocess_source"] == "metadata"
    # without metadata, a trial on training images finds the convention it was trained with
    del proto.metadata_props[:]
    bare = save(proto, tmp_path / "bare.onnx")
    found = _evaluate(bare, "--no-latency")
    assert found["preprocess"] == "mnist" and found["preprocess_source"] == "detected"
    assert found["correct"] == reference["correct"]
    assert any("detected on 5,000 training images: mnist" in note for note in found["notes"])


def test_compare_json_lists_each_model_as_evaluate_measures_it(small_cnn, tmp_path, evaluated):
    bare = model_io.load(small_cnn)
    del bare.metadata_props[:]
    path = save(bare, tmp_path / "bare.onnx")
    both = json.loads(edgeshrink("compare", small_cnn, path, "--json").raw)
    assert [m["name"] for m in both] == [small_cnn.name, "bare.onnx"]
    assert [m["correct"] for m in both] == [evaluated["correct"]] * 2
    assert [m["preprocess_source"] for m in both] == ["metadata", "detected"]
    assert both[0]["size"] == evaluated["size"] and both[1]["size"]["raw"] < both[0]["size"]["raw"]


@pytest.mark.parametrize("form, layout, dtype", [("nhwc3", "NHWC3", "float32"), ("float64", "NCHW", "float64")])
def test_other_input_forms_optimize_end_to_end(form, layout, dtype, small_cnn, tmp_path, reference):
    path = save(getattr(forms, form)(small_cnn), tmp_path / f"{form}.onnx")
    done = edgeshrink("optimize", path, "--recipe", "fast", "--preprocess", "mnist",
                      "--set", "quantize.calibration_images=100", "-o", tmp_path / "out")
    assert "recipe 'fast' completed" in done.out
    doc = json.loads((tmp_path / "out" / "report.json").read_text())
    signature = doc["baseline"]["signature"]
    assert (signature["layout"], signature["dtype"], signature["batch"]) == (layout, dtype, None)
    assert doc["baseline"]["correct"] == reference["correct"]  # the same network, fed its own way
    final = model_io.load(tmp_path / "out" / "model.opt.onnx")
    assert model_io.is_quantized(final) and model_io.stored_signature(final).layout == layout
    assert abs(doc["steps"][-1]["evaluation"]["correct"] - reference["correct"]) <= 50  # within the budget


@pytest.mark.parametrize("batch", [7, 1])
def test_a_fixed_batch_with_a_remainder_scores_every_image_once(batch, small_cnn, tmp_path, reference):
    """10,000 = 7 x 1428 + 4: the last run is padded, and the padding's answers are dropped."""
    path = save(forms.fixed_batch(small_cnn, batch), tmp_path / f"batch{batch}.onnx")
    result = _evaluate(path, "--preprocess", "mnist")
    assert result["signature"]["batch"] == batch and result["total"] == 10_000
    assert result["correct"] == reference["correct"]
    assert result["latency"]["batch"] == batch and result["latency"]["throughput_batch"] == batch


def test_padding_answers_are_dropped(small_cnn, test_split):
    """Predictions for 11 images on a batch-7 model: 11 answers, the same as one image at a time."""
    proto = forms.fixed_batch(small_cnn, 7)
    signature = Signature("x", "NCHW", 7, "float32", PRESETS["mnist"])
    pixels = test_split.images[:11]
    got = inference.predict(inference.session(proto), signature, pixels)
    one = Signature("x", "NCHW", 1, "float32", PRESETS["mnist"])
    each = inference.predict(inference.session(forms.fixed_batch(small_cnn, 1)), one, pixels)
    assert got.shape == (11,) and np.array_equal(got, each)
