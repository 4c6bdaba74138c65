"""`edgeshrink search` end to end with SQLite: failures and bad input are one line, a second run continues
the study, and the frontier is re-measured and written as a table, plots, an HTML page, recipes, a bundle."""

from __future__ import annotations

import json
import re

import onnx
import optuna
import pytest

from edgeshrink import api
from edgeshrink.cli import main
from edgeshrink.search.study import storage as studies
from tests.search.conftest import CHEAP
from tests.web.conftest import SKIP_REASON


def _error(capsys, argv) -> str:
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 1, err
    assert err.startswith("error: ") and "Traceback" not in err and len(err.splitlines()) <= 2
    return " ".join(err.split())


def test_empty_space(capsys, small_cnn, tmp_path):
    assert "search space is empty" in _error(capsys, ["search", str(small_cnn), "-o", str(tmp_path), "--space", ""])


def test_unreachable_database(capsys, small_cnn, tmp_path):
    message = _error(capsys, ["search", str(small_cnn), "-o", str(tmp_path), "--storage",
                              "postgresql://someone:secret@127.0.0.1:1/nowhere"])
    assert "cannot open the study database postgresql://someone:***@127.0.0.1:1/nowhere" in message
    assert "secret" not in message


def test_a_file_named_memory_is_a_database(tmp_path):
    studies.check_storage(f"sqlite:///{tmp_path / 'memory.db'}")  # refused only when SQLite keeps it in memory


def test_foreign_output_folder_is_left_alone(capsys, small_cnn, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    assert "not an edgeshrink search" in _error(capsys, ["search", str(small_cnn), "-o", str(tmp_path)])
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_study_of_another_model(capsys, small_cnn, tmp_path):
    out = tmp_path / "out"
    assert main(["search", str(small_cnn), "-o", str(out), "--trials", "1", "--no-remeasure", *CHEAP]) == 0
    other = onnx.load(str(small_cnn))
    onnx.helper.set_model_props(other, {"note": "another model"})
    onnx.save(other, str(tmp_path / "other.onnx"))
    message = _error(capsys, ["search", str(tmp_path / "other.onnx"), "-o", str(out), "--study", small_cnn.stem,
                              "--no-remeasure", *CHEAP])
    assert f"study '{small_cnn.stem}' belongs to another model ({small_cnn.name}" in message


def test_bad_width_multiplier_is_a_usage_error(capsys, tmp_path):
    assert main(["search", "-o", str(tmp_path / "out"), "--arch", "zoo8,zoo8@0"]) == 2
    message = " ".join(capsys.readouterr().err.split())
    assert "Invalid value for '--arch': bad width multiplier '0' in 'zoo8@0'" in message
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_widths_are_searched_and_trained_once(capsys, tmp_path, mnist_dir):
    from edgeshrink import zoo
    from edgeshrink.core import model as model_io

    out = tmp_path / "out"
    argv = ["search", "-o", str(out), "--arch", "zoo8@0.25,zoo8@0.50", "--arch-epochs", "1", "--space", "",
            "--no-remeasure", "--val-images", "200", "--heartbeat", "2"]
    assert main([*argv, "--trials", "2"]) == 0, capsys.readouterr().err
    bases = {p.name: p.stat().st_mtime_ns for p in (out / "bases").glob("*.onnx")}
    assert sorted(bases) == ["zoo8@0.25-1ep.onnx", "zoo8@0.5-1ep.onnx"]
    sizes = {name: model_io.count_params(model_io.load(out / "bases" / name))[0] for name in bases}
    assert sizes == {"zoo8@0.25-1ep.onnx": 906, "zoo8@0.5-1ep.onnx": 2_202}
    assert {p.key: p.value for p in model_io.load(out / "bases" / "zoo8@0.5-1ep.onnx").metadata_props}[
        zoo.ARCH_KEY] == "zoo8@0.5"

    assert main([*argv, "--trials", "4"]) == 0  # continued: the trained widths are reused, not retrained
    assert {p.name: p.stat().st_mtime_ns for p in (out / "bases").glob("*.onnx")} == bases
    study = optuna.load_study(study_name="archs", storage=studies.default_storage(out))
    records = [t.user_attrs["edgeshrink.record"] for t in study.trials]
    assert len(records) == 4 and {r["arch"] for r in records} <= {"zoo8@0.25", "zoo8@0.5"}
    for r in records:  # each trial started from its own width's model
        assert r["params_total"] == sizes[f"{r['arch']}-1ep.onnx"]


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or "")
def test_search_continues_and_writes_the_frontier(capsys, small_cnn, tmp_path):
    out = tmp_path / "out"
    argv = ["search", str(small_cnn), "-o", str(out), "--trials", "3", *CHEAP]

    def trials():
        return optuna.load_study(study_name=small_cnn.stem, storage=studies.default_storage(out)).trials

    # interrupted: the timeout stops it after its first trial (a trial takes seconds)
    assert main([*argv, "--no-remeasure", "--timeout", "0.5"]) == 0
    assert sum(studies.counted(t) for t in trials()) == 1
    assert main([*argv, "--no-remeasure"]) == 0  # the same command finishes the rest, no more
    assert sum(studies.counted(t) for t in trials()) == len(trials()) == 3
    capsys.readouterr()
    assert main([*argv, "--networks", "localhost", "--network", "localhost", "--budget-ms", "60000"]) == 0
    stdout = capsys.readouterr().out
    assert len(trials()) == 3  # the study was finished: running it again adds no trial
    assert "3 complete" in " ".join(stdout.split())
    assert "most accurate model is" in stdout

    frontier = out / "frontier"
    points = json.loads((frontier / "frontier.json").read_text())["points"]
    pareto = [p for p in points if p["kind"] == "pareto"]
    assert pareto and any(p["kind"] == "input" for p in points)
    for p in pareto:  # re-measured on the test set and in the browser, not copied from the search
        assert p["test_accuracy"] != p["search"]["val_accuracy"] or p["browser_latency_ms"] > 0
        assert p["first_prediction_ms"]["localhost"] > 0 and p["browser_latency_ms"] > 0
    page = (frontier / "frontier.html").read_text()
    assert page.count("<svg") == 2
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)  # nothing from another origin
    for name in ("accuracy-vs-bytes.png", "frontier.md", "frontier.csv"):
        assert (frontier / name).stat().st_size > 0
    bundled = set()
    for folder in (frontier / "bundle", frontier / "bundle-ort"):  # -ort: models the compiled runtime gets wrong
        if folder.is_dir():
            bundled |= {v["name"] for v in json.loads((folder / "manifest.json").read_text())["variants"]}
    assert bundled == {p["name"] for p in points}

    # the exported recipe reproduces its trial with `optimize`
    first = pareto[0]
    report = api.optimize(out / "bases" / "input.onnx", first["recipe_file"], output=tmp_path / "again")
    again = onnx.load(str(tmp_path / "again" / "model.opt.onnx"))
    assert again.graph == onnx.load(first["model_file"]).graph
    assert report.final_evaluation.accuracy == pytest.approx(first["test_accuracy"])
