"""Models as onnxruntime sees them: repaired where possible, refused with a named reason where not."""

import numpy as np
import onnx
import pytest

from edgeshrink import api, inference
from edgeshrink.core import model as model_io
from edgeshrink.core.signature import Preprocess
from edgeshrink.errors import ModelError
from tests import defects


@pytest.mark.parametrize("defect,said", [
    (defects.unsorted_nodes, "not in topological order"),
    (defects.unnamed_graph, "no name"),
    (defects.duplicate_outputs, "duplicate graph output"),
])
def test_repairable_defects_are_repaired_and_said(tmp_path, mnist_dir, defect, said):
    path = defects.save(defect(), tmp_path / "m.onnx")
    loaded = model_io.read(path)
    assert any(said in note for note in loaded.repairs), loaded.repairs
    onnx.checker.check_model(loaded.model)  # the repaired copy passes the checker it failed
    reference = model_io.load(defects.save(defects.base(), tmp_path / "base.onnx"))
    x = np.random.default_rng(0).random((1, 1, 28, 28), dtype=np.float32)
    ref = inference.session(reference).run(None, {"input": x})[0]
    got = inference.session(loaded.model).run(None, {"input": x})[0]
    np.testing.assert_array_equal(got, ref)


def test_repaired_model_evaluates_to_its_published_accuracy(tmp_path, mnist_dir):
    """The intact model's accuracy, found the same way (no signature: the preprocessing is detected)."""
    path = defects.save(defects.all_three(), tmp_path / "keras15.onnx")
    result = api.evaluate_file(path, latency=False)
    published = api.evaluate_file(defects.save(defects.base(), tmp_path / "base.onnx"), latency=False)
    assert published.accuracy > 0.9
    assert result.accuracy == published.accuracy
    assert sum(note.startswith("repaired:") for note in result.notes) == 3, result.notes


def test_intact_model_has_no_repairs(tmp_path, mnist_dir):
    assert model_io.read(defects.save(defects.base(), tmp_path / "base.onnx")).repairs == []


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_weights_are_refused(tmp_path, mnist_dir, value):
    path = defects.save(defects.non_finite_weight(value), tmp_path / "diverged.onnx")
    with pytest.raises(ModelError, match=r"weight \S+ holds 1 NaN or infinite value"):
        model_io.load(path)


def test_missing_external_data_file_is_named(tmp_path, mnist_dir):
    path = defects.external_data_without_its_file(tmp_path)
    with pytest.raises(ModelError, match=r"keeps its weights in model.onnx.data, which is missing"):
        model_io.load(path)


def test_folder_named_like_a_model(tmp_path, mnist_dir):
    path = defects.folder_named_like_a_model(tmp_path)
    with pytest.raises(ModelError, match=r"is a folder, not a model file \(it holds inner.onnx\)"):
        model_io.load(path)


def test_unreadable_signature_metadata(tmp_path, mnist_dir):
    path = defects.save(defects.bad_metadata(), tmp_path / "m.onnx")
    with pytest.raises(ModelError, match="metadata edgeshrink.signature is unreadable"):
        api.open_model(path)
    assert api.open_model(path, preprocess="symmetric").detection.source == "option"  # the stated fix works


def test_what_onnxruntime_cannot_run_is_refused_with_both_reasons(tmp_path, mnist_dir):
    broken = defects.base()
    broken.graph.node[0].input[0] = "nobody_makes_this"
    path = defects.save(broken, tmp_path / "m.onnx")
    with pytest.raises(ModelError, match="is not a valid ONNX model .* and onnxruntime cannot load"):
        model_io.load(path)


@pytest.mark.parametrize("text", ["std=0", "scale=0", "mean=nan", "scale=inf", "std=1e999"])
def test_preprocess_values_that_destroy_every_pixel(text):
    with pytest.raises(ModelError, match="scale and std must be finite and non-zero"):
        Preprocess.parse(text)


@pytest.mark.parametrize("text", ["scale=1/0", "std", "gamma=2", "scale=a/b"])
def test_preprocess_text_that_cannot_be_read(text):
    with pytest.raises(ModelError, match="cannot read preprocessing"):
        Preprocess.parse(text)
