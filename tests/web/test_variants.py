"""A bundle's variants come from an `edgeshrink optimize` output folder."""

import json

import pytest

from edgeshrink.cli import main
from edgeshrink.errors import BundleError
from edgeshrink.web.assemble.variants import from_optimize_output
from tests import defects


def test_baseline_and_optimized_carry_the_measured_facts(fast_run):
    report, out = fast_run
    baseline, optimized = from_optimize_output(out)
    assert (baseline.name, optimized.name) == ("baseline", "optimized")
    assert baseline.accuracy == report.baseline.accuracy
    assert optimized.accuracy == report.final_evaluation.accuracy
    assert optimized.model_path.name == "model.opt.onnx" and optimized.signature.layout == "NCHW"
    assert [v.name for v in from_optimize_output(out, baseline=False)] == ["optimized"]


def test_no_baseline_bundle_ships_only_the_optimized_model(fast_run, tmp_path):
    _, out = fast_run
    assert main(["bundle", str(out), "-o", str(tmp_path / "dist"), "--no-baseline"]) == 0
    manifest = json.loads((tmp_path / "dist" / "manifest.json").read_text())
    assert [v["name"] for v in manifest["variants"]] == ["optimized"]
    assert sorted(p.name for p in (tmp_path / "dist" / "models").glob("*.onnx")) == ["optimized.onnx"]


def test_a_folder_without_report_is_refused(tmp_path):
    with pytest.raises(BundleError, match="has no report.json; pass the output folder of 'edgeshrink optimize'"):
        from_optimize_output(tmp_path)


@pytest.mark.parametrize("replacement,message", [
    ("00-input.onnx", "is not the model the report measured"),  # another edgeshrink model
    ("foreign", "was not written by 'edgeshrink optimize'"),  # someone else's model, no signature
])
def test_a_replaced_optimized_model_is_refused(fast_run, tmp_path, replacement, message):
    import shutil

    _, out = fast_run
    copy = tmp_path / "run"
    shutil.copytree(out, copy)
    if replacement == "foreign":
        defects.save(defects.base(), copy / "model.opt.onnx")
    else:
        shutil.copy(copy / replacement, copy / "model.opt.onnx")
    with pytest.raises(BundleError, match=message):
        from_optimize_output(copy)


@pytest.mark.parametrize("text", ["{not json", "{}", "[1, 2]", '{"steps": [{"status": "ok"}]}'])
def test_a_report_that_is_not_an_optimize_report_is_refused(tmp_path, text):
    (tmp_path / "report.json").write_text(text)
    with pytest.raises(BundleError, match="is not a report of 'edgeshrink optimize'"):
        from_optimize_output(tmp_path)
