"""The run folder as an API: report.json round-trips to dataclasses, carries its schema, and a report
that is missing, broken or from a newer edgeshrink gets a one-line error."""

from __future__ import annotations

import json
import shutil

import pytest

from edgeshrink import api
from edgeshrink.cli import main
from edgeshrink.errors import ReportError
from edgeshrink.evaluate import Evaluation
from edgeshrink.pipeline import FINAL_FILE, INPUT_FILE, REPORT_FILE, SCHEMA, PipelineReport, StepResult


def _copy(fast_run, tmp_path, edit=None):
    """The fast run's folder copied, with report.json changed by `edit(doc)` (or replaced by its result)."""
    _, out = fast_run
    folder = tmp_path / "run"
    shutil.copytree(out, folder)
    if edit is not None:
        doc = json.loads((folder / REPORT_FILE).read_text())
        doc = edit(doc) or doc
        (folder / REPORT_FILE).write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return folder


def test_report_round_trips_to_dataclasses(fast_run):
    report, out = fast_run
    saved = PipelineReport.read(out)
    assert saved == report
    assert isinstance(saved.steps[0], StepResult) and isinstance(saved.final_evaluation, Evaluation)
    assert saved.final_evaluation == report.final_evaluation
    assert json.loads((out / REPORT_FILE).read_text())["schema"] == SCHEMA == 1


def test_the_report_says_what_computed_its_int8_numbers(fast_run, tmp_path):
    from edgeshrink import engine

    report, out = fast_run
    assert report.machine == engine.current() and PipelineReport.read(out).machine == report.machine
    final = report.final_evaluation
    assert final.engine == engine.current().int8  # the fast recipe ends int8
    assert (final.native is None) == engine.current().native_exact
    assert f"Measured with {engine.current().describe()}." in (out / "report.md").read_text()
    older = _copy(fast_run, tmp_path, lambda doc: doc.pop("machine") and None)  # a report from before it was kept
    assert PipelineReport.read(older).machine is None


def test_read_takes_the_folder_it_was_given(fast_run, tmp_path):
    folder = _copy(fast_run, tmp_path)
    assert PipelineReport.read(folder).folder == str(folder)


def test_a_report_from_before_the_schema_reads_as_schema_1(fast_run, tmp_path):
    folder = _copy(fast_run, tmp_path, lambda doc: doc.pop("schema") and None)
    assert PipelineReport.read(folder).steps == fast_run[0].steps


def test_fields_a_later_version_adds_are_ignored(fast_run, tmp_path):
    def add(doc):
        doc["energy_mj"] = 1.5
        doc["baseline"]["energy_mj"] = 1.5

    assert PipelineReport.read(_copy(fast_run, tmp_path, add)).baseline == fast_run[0].baseline


@pytest.mark.parametrize("edit, message", [
    (lambda doc: {**doc, "schema": SCHEMA + 1},
     rf"has report schema {SCHEMA + 1}, newer than this edgeshrink reads \(up to {SCHEMA}\); upgrade edgeshrink"),
    (lambda doc: "{not json", r"report.json is not a report of 'edgeshrink optimize' \(JSONDecodeError: .*\); run 'edgeshrink optimize'"),
    (lambda doc: {"schema": 1, "model": "m"}, r"report.json is not a report of 'edgeshrink optimize' \(KeyError: 'baseline'\)"),
    (lambda doc: {**doc, "schema": "one"}, r"report.json is not a report of 'edgeshrink optimize' \(ValueError: schema 'one'\)"),
    (lambda doc: [1, 2], r"report.json is not a report of 'edgeshrink optimize'"),
])
def test_bad_reports_get_a_one_line_error_naming_the_file(fast_run, tmp_path, edit, message):
    folder = _copy(fast_run, tmp_path, edit)
    with pytest.raises(ReportError, match=message):
        PipelineReport.read(folder)


def test_a_folder_without_a_report_is_named(tmp_path):
    with pytest.raises(ReportError, match=r"has no report.json; pass the output folder of 'edgeshrink optimize'"):
        PipelineReport.read(tmp_path)


def test_compare_reads_run_folders(fast_run):
    report, out = fast_run
    results = api.compare([out], latency=False)
    assert [r.name for r in results] == [f"{out.name}/{INPUT_FILE}", f"{out.name}/{FINAL_FILE}"]
    assert [r.accuracy for r in results] == [report.baseline.accuracy, report.final_evaluation.accuracy]
    measured, recorded = api.compare([out / INPUT_FILE, out], latency=False)
    assert measured.accuracy == report.baseline.accuracy  # the same model measured again agrees
    assert recorded.name == f"{out.name}/{FINAL_FILE}" and recorded.size == report.final_evaluation.size


def test_cli_names_a_report_from_a_newer_version(fast_run, tmp_path, capsys):
    folder = _copy(fast_run, tmp_path, lambda doc: {**doc, "schema": SCHEMA + 1})
    assert main(["compare", str(folder)]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert err.startswith("error: ") and "upgrade edgeshrink" in err and "Traceback" not in err
