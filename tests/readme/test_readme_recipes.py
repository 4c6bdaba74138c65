"""README promises about `edgeshrink optimize`: every shipped recipe runs end to end on a small model (its
training cut short with --set, the only change), the output folder's files, the default folder next to the
model, --set reaching the step, --bundle, and int8 models at the end. All through `edgeshrink` processes."""

from __future__ import annotations

import json
import shutil

import pytest

from edgeshrink import recipe
from edgeshrink.core import model as model_io
from tests.readme.cli import edgeshrink

SHORT = {"finetune_images": 256, "trials": 2, "calibration_images": 64}  # CI-sized training, same steps


def _short(name: str) -> list[str]:
    """--set options that shorten every step's training and calibration (by position: names repeat)."""
    args = []
    for step in recipe.load(name).steps:
        fields = set(step.params())  # the recipe's names (a nested FineTune's included)
        args += [arg for param, value in SHORT.items() if param in fields
                 for arg in ("--set", f"{step.position}.{param}={value}")]
    return args


@pytest.mark.parametrize("name", ["default", "dynamic", "max", "small"])  # fast: tests/test_pipeline.py and below
def test_every_shipped_recipe_runs_end_to_end(name, small_cnn, tmp_path):
    out = tmp_path / "out"
    done = edgeshrink("optimize", small_cnn, "--recipe", name, *_short(name), "--max-drop", "5", "-o", out)
    assert f"recipe '{name}' completed; final model model.opt.onnx" in done.out
    steps = recipe.load(name).steps
    expected = ["00-input.onnx", *(f"{s.position:02d}-{s.name}.onnx" for s in steps), "model.opt.onnx",
                "report.csv", "report.json", "report.md"]
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == sorted(expected)  # README
    doc = json.loads((out / "report.json").read_text())
    assert [s["name"] for s in doc["steps"]] == [s.name for s in steps]
    assert all(s["status"] in ("ok", "unchanged", "worse") for s in doc["steps"])  # kept: none skipped or over budget
    base, final = doc["baseline"], doc["steps"][-1]["evaluation"]
    assert 100 * (base["accuracy"] - final["accuracy"]) <= 5  # the budget it was given
    assert final["size"]["gzip"] < base["size"]["gzip"] / 2
    assert model_io.is_quantized(model_io.load(out / "model.opt.onnx"))
    assert (out / "model.opt.onnx").read_bytes() == (out / expected[len(steps)]).read_bytes()
    if name != "dynamic":  # the pruning recipes remove parameters, not just bytes
        assert final["params_nonzero"] < base["params_nonzero"]
    for step in doc["steps"]:  # --set reached every step it names
        for param, value in SHORT.items():
            if param in step["params"]:
                assert step["params"][param] == value, (step["name"], param)


def test_default_output_folder_set_and_bundle(small_cnn, tmp_path):
    """No -o: MODEL_STEM.RECIPE next to the model. --set by name. --bundle: input and optimized models."""
    model = tmp_path / "digits.onnx"
    shutil.copy(small_cnn, model)
    dist = tmp_path / "dist"
    edgeshrink("optimize", model, "--recipe", "fast", "--set", "quantize.calibration_images=50", "--bundle", dist,
               cwd=tmp_path)
    out = tmp_path / "digits.fast"
    doc = json.loads((out / "report.json").read_text())
    assert doc["completed"] and doc["steps"][-1]["params"]["calibration_images"] == 50
    manifest = json.loads((dist / "manifest.json").read_text())
    assert len(manifest["variants"]) == 2
    assert (dist / "index.html").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["digits.fast", "digits.onnx", "dist"]
