"""The pipeline runs a recipe step by step, measures after each, and enforces the accuracy budget."""

import json

import onnx
import pytest

from edgeshrink import api, model, outputs
from edgeshrink.cli import main
from edgeshrink.errors import OutputError, RecipeError
from edgeshrink.pipeline import PipelineReport


def test_fast_recipe_writes_every_step_and_reports(fast_run):
    report, out = fast_run
    assert report.completed and [s.name for s in report.steps] == ["simplify", "fuse", "quantize"]
    names = sorted(p.name for p in out.iterdir())
    assert names == [outputs.MARKER, "00-input.onnx", "01-simplify.onnx", "02-fuse.onnx", "03-quantize.onnx", "model.opt.onnx",
                     "report.csv", "report.json", "report.md"]
    final = model.load(out / "model.opt.onnx")
    assert model.stored_signature(final) is not None  # the page and later runs know how to feed it
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


def test_budget_breach_stops_and_keeps_last_good_model(small_cnn, tmp_path, capsys):
    recipe = tmp_path / "brutal.yaml"
    recipe.write_text("name: brutal\nsteps:\n  - pass: simplify\n  - pass: prune\n    method: unstructured\n"
                      "    sparsity: 0.97\n    finetune_epochs: 0\n  - pass: quantize\n")
    code = main(["optimize", str(small_cnn), "--recipe", str(recipe), "-o", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == 3  # completed over budget: not a usage error (2) nor a failure (1)
    assert "step 2 (prune) lost" in " ".join(out.split())
    saved = PipelineReport.read(tmp_path / "out")
    assert saved.stopped_at == 2 and [s.status for s in saved.steps] == ["ok", "over budget"]
    kept = (tmp_path / "out" / "model.opt.onnx").read_bytes()
    assert kept == (tmp_path / "out" / "01-simplify.onnx").read_bytes()


def test_quantized_input_skips_quantize_and_refuses_float_passes(fast_run, tmp_path):
    _, out = fast_run
    quantized = out / "model.opt.onnx"
    only_quantize = tmp_path / "q.yaml"
    only_quantize.write_text("steps:\n  - pass: quantize\n")
    report = api.optimize(quantized, str(only_quantize), output=tmp_path / "again")
    assert report.steps[0].status == "unchanged" and "already quantized" in " ".join(report.steps[0].notes)
    with pytest.raises(RecipeError, match=r"step 1 \(simplify\): the input model is already quantized"):
        api.optimize(quantized, "fast", output=tmp_path / "refused")


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


def test_floor_stops_a_step_the_drop_budget_would_allow(small_cnn, tmp_path, capsys):
    recipe = tmp_path / "brutal.yaml"
    recipe.write_text("name: brutal\nsteps:\n  - pass: simplify\n  - pass: prune\n    method: unstructured\n"
                      "    sparsity: 0.97\n    finetune_epochs: 0\n")
    code = main(["optimize", str(small_cnn), "--recipe", str(recipe), "--max-drop", "100", "--min-accuracy", "90",
                 "-o", str(tmp_path / "out")])
    out = " ".join(capsys.readouterr().out.split())
    assert code == 3 and "below the 90% floor" in out and "floor 90%" in out
    doc = json.loads((tmp_path / "out" / "report.json").read_text())
    assert doc["min_accuracy"] == 90 and [s["status"] for s in doc["steps"]] == ["ok", "over budget"]


def test_a_floor_above_the_input_is_refused_before_any_step(small_cnn, tmp_path):
    with pytest.raises(RecipeError, match=r"already below --min-accuracy 99.9; lower the floor"):
        api.optimize(small_cnn, "fast", output=tmp_path / "out", min_accuracy=99.9)
    assert not (tmp_path / "out").exists()
