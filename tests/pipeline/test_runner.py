"""The pipeline runs a recipe step by step, measures after each, and enforces the accuracy budget."""

import numpy as np
import onnx
import pytest

from edgeshrink import api, outputs
from edgeshrink.cli import main
from edgeshrink.core import model as model_io
from edgeshrink.errors import OutputError, RecipeError
from edgeshrink.pipeline import PipelineReport


def test_fast_recipe_writes_every_step_and_reports(fast_run):
    report, out = fast_run
    assert report.completed and [s.name for s in report.steps] == ["simplify", "fuse", "quantize"]
    names = sorted(p.name for p in out.iterdir())
    assert names == [outputs.MARKER, "00-input.onnx", "01-simplify.onnx", "02-fuse.onnx", "03-quantize.onnx", "model.opt.onnx",
                     "report.csv", "report.json", "report.md"]
    final = model_io.load(out / "model.opt.onnx")
    assert model_io.stored_signature(final) is not None  # the page and later runs know how to feed it
    assert any(init.data_type == onnx.TensorProto.INT8 for init in final.graph.initializer)
    assert report.final_evaluation.size.raw < report.baseline.size.raw / 2
    assert abs(report.final_evaluation.accuracy - report.baseline.accuracy) <= 0.005


def test_reports_agree_with_each_other(fast_run):
    report, out = fast_run
    saved = PipelineReport.read(out)
    assert saved.completed and len(saved.steps) == 3
    assert saved.steps[2].evaluation.accuracy == report.steps[2].evaluation.accuracy
    md = (out / "report.md").read_text()
    assert "3 quantize" in md and "recipe 'fast' completed" in md
    assert (out / "report.csv").read_text().count("\n") == 5  # header, input, three steps


@pytest.mark.slow
def test_budget_breach_stops_and_keeps_last_good_model(small_cnn, tmp_path, capsys):
    recipe = tmp_path / "brutal.yaml"
    recipe.write_text("name: brutal\nsteps:\n  - pass: simplify\n  - pass: prune\n    method: unstructured\n"
                      "    sparsity: 0.97\n    finetune_epochs: 0\n  - pass: quantize\n")
    code = main(["optimize", str(small_cnn), "--recipe", str(recipe), "-o", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == 3  # completed over budget: not a usage error (2) nor a failure (1)
    assert "step 2 (prune) lost" in " ".join(out.split())
    saved = PipelineReport.read(tmp_path / "out")
    assert saved.stopped_at == 2 and [s.status for s in saved.steps] in (["ok", "over budget"], ["worse", "over budget"])
    kept = (tmp_path / "out" / "model.opt.onnx").read_bytes()
    assert kept == (tmp_path / "out" / "01-simplify.onnx").read_bytes()


def _elements(proto, types, min_rank=0) -> int:
    return sum(int(np.prod(i.dims)) for i in proto.graph.initializer if i.data_type in types and len(i.dims) >= min_rank)


def _int8_weights(proto) -> int:  # rank >= 2: kernels, not the scalar zero points simplify may merge
    return _elements(proto, (onnx.TensorProto.INT8, onnx.TensorProto.UINT8), min_rank=2)


@pytest.mark.slow
@pytest.mark.parametrize("recipe", ["fast", "default"])
def test_int8_input_runs_what_is_safe_and_never_unfolds_it(fast_run, tmp_path, recipe):
    _, out = fast_run
    quantized = out / "model.opt.onnx"
    report = api.optimize(quantized, recipe, output=tmp_path / recipe)
    statuses = {s.name: s.status for s in report.steps}
    assert statuses["quantize"] == "unchanged"
    assert "already quantized" in " ".join(next(s for s in report.steps if s.name == "quantize").notes)
    if recipe == "default":
        prune = report.steps[0]
        assert prune.status == "skipped" and "needs float weights" in " ".join(prune.notes)
    assert all(s.notes for s in report.steps if s.status in ("skipped", "worse"))  # each says why
    final, given = model_io.load(tmp_path / recipe / "model.opt.onnx"), model_io.load(quantized)
    assert _int8_weights(final) == _int8_weights(given) > 0
    floats = (onnx.TensorProto.FLOAT,)
    assert _elements(final, floats) <= _elements(given, floats)  # nothing unfolded back to float
    assert abs(report.final_evaluation.accuracy - report.baseline.accuracy) <= 0.001


def test_int8_guard_refuses_a_step_that_unfolds_weights(fast_run):
    from onnx import numpy_helper

    from edgeshrink import judge

    _, out = fast_run
    quantized = model_io.load(out / "model.opt.onnx")
    unfolded = model_io.clone(quantized)
    int8 = next(i for i in unfolded.graph.initializer if i.data_type == onnx.TensorProto.INT8 and len(i.dims) > 1)
    as_float = numpy_helper.from_array(numpy_helper.to_array(int8).astype(np.float32), int8.name)
    int8.CopyFrom(as_float)
    assert "unfold" in judge.int8_unfolded(quantized, unfolded)
    assert judge.int8_unfolded(quantized, quantized) == ""


@pytest.mark.slow
def test_a_step_that_makes_the_model_larger_is_flagged_and_skip_if_worse_skips_it(tiny_cnn, tmp_path):
    """Quantizing a model of a few hundred parameters adds more scales, zero points and Q/DQ nodes than int8 saves."""
    recipe = tmp_path / "shrink-then-quantize.yaml"
    recipe.write_text("steps:\n  - pass: prune\n    method: structured\n    sparsity: 0.7\n    finetune_epochs: 0\n"
                      "  - pass: quantize\n    calibration_images: 100\n")
    tiny = tiny_cnn
    flagged = api.optimize(tiny, str(recipe), output=tmp_path / "flagged", max_drop=100)
    quantize = flagged.steps[1]
    assert quantize.evaluation.size.raw > flagged.steps[0].evaluation.size.raw
    assert quantize.status == "worse" and "x larger" in " ".join(quantize.notes)
    skipping = api.optimize(tiny, str(recipe), ["quantize.skip_if_worse=true"], output=tmp_path / "skipped",
                            max_drop=100)
    assert skipping.steps[1].status == "skipped" and skipping.completed
    kept = (tmp_path / "skipped" / "model.opt.onnx").read_bytes()
    assert kept == (tmp_path / "skipped" / "01-prune.onnx").read_bytes()
    assert skipping.final_evaluation == skipping.steps[0].evaluation

@pytest.mark.slow
def test_rerun_into_a_run_folder_replaces_it_whole(small_cnn, tmp_path):
    simplify_only, prune_then_simplify = tmp_path / "a.yaml", tmp_path / "b.yaml"
    simplify_only.write_text("steps:\n  - pass: simplify\n")
    prune_then_simplify.write_text("steps:\n  - pass: prune\n    sparsity: 0.1\n    finetune_epochs: 0\n"
                                   "  - pass: simplify\n")
    out = tmp_path / "run"
    api.optimize(small_cnn, str(prune_then_simplify), output=out)
    (out / "my-notes.txt").write_text("mine")
    api.optimize(small_cnn, str(simplify_only), output=out)
    names = {p.name for p in out.iterdir()}
    assert "02-simplify.onnx" not in names and "01-simplify.onnx" in names  # no stale step of the first run
    assert (out / "my-notes.txt").read_text() == "mine"
    assert PipelineReport.read(out).recipe == "a"


def test_folder_with_the_users_files_is_refused_before_any_work(small_cnn, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "report.md").write_text("my report")
    (out / "04-prune.onnx").write_bytes(b"stale")
    with pytest.raises(OutputError, match="holds files edgeshrink did not write"):
        api.optimize(small_cnn, "fast", output=out)
    assert (out / "report.md").read_text() == "my report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]  # nothing half-written beside it


@pytest.mark.slow
def test_floor_stops_a_step_the_drop_budget_would_allow(small_cnn, tmp_path, capsys):
    recipe = tmp_path / "brutal.yaml"
    recipe.write_text("name: brutal\nsteps:\n  - pass: simplify\n  - pass: prune\n    method: unstructured\n"
                      "    sparsity: 0.97\n    finetune_epochs: 0\n")
    code = main(["optimize", str(small_cnn), "--recipe", str(recipe), "--max-drop", "100", "--min-accuracy", "90",
                 "-o", str(tmp_path / "out")])
    out = " ".join(capsys.readouterr().out.split())
    assert code == 3 and "below the 90% floor" in out and "floor 90%" in out  # cli/codes.py: OVER_BUDGET
    saved = PipelineReport.read(tmp_path / "out")
    assert saved.min_accuracy == 90 and [s.status for s in saved.steps] in (["ok", "over budget"], ["worse", "over budget"])


def test_a_floor_above_the_input_is_refused_before_any_step(small_cnn, tmp_path):
    with pytest.raises(RecipeError, match=r"already below --min-accuracy 99.9; lower the floor"):
        api.optimize(small_cnn, "fast", output=tmp_path / "out", min_accuracy=99.9)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("preprocess, source", [("mnist", "option"), (None, "detected")])
def test_the_report_says_how_the_inputs_preprocessing_was_found(small_cnn, tmp_path, preprocess, source):
    bare = model_io.read(small_cnn).model
    del bare.metadata_props[:]  # no signature: the option decides, else a trial on training images
    onnx.save(bare, tmp_path / "bare.onnx")
    (tmp_path / "r.yaml").write_text("steps:\n  - pass: simplify\n")
    report = api.optimize(tmp_path / "bare.onnx", str(tmp_path / "r.yaml"), preprocess=preprocess,
                          output=tmp_path / "out")
    assert report.baseline.preprocess_source == source
    assert PipelineReport.read(tmp_path / "out").baseline.preprocess_source == source
    assert report.steps[0].evaluation.preprocess_source == "metadata"  # outputs carry the signature
