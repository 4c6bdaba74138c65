"""Output folders never destroy what edgeshrink did not write; interrupted runs leave nothing."""

import errno

import pytest

from edgeshrink import outputs
from edgeshrink.errors import OSFailure, OutputError


def _write(folder, *names):
    with outputs.staged(folder, "output") as tmp:
        for name in names:
            (tmp / name).write_text(name)


def _leftovers(parent):
    return [p.name for p in parent.iterdir() if p.name.endswith(".partial")]


def test_new_folder_appears_whole_with_its_marker(tmp_path):
    _write(tmp_path / "run", "00-input.onnx", "report.json")
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [outputs.MARKER, "00-input.onnx", "report.json"]
    assert outputs.owned(tmp_path / "run") == {outputs.MARKER, "00-input.onnx", "report.json"}


def test_rerun_replaces_the_earlier_run_whole_and_keeps_the_users_files(tmp_path):
    run = tmp_path / "run"
    _write(run, "00-input.onnx", "04-prune.onnx", "report.md")
    (run / "notes.txt").write_text("mine")
    _write(run, "00-input.onnx", "01-simplify.onnx", "report.md")
    assert not (run / "04-prune.onnx").exists()  # no stale step of the earlier run
    assert (run / "01-simplify.onnx").is_file() and (run / "notes.txt").read_text() == "mine"


def test_folder_of_someone_elses_files_is_refused(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "report.md").write_text("my notes")
    (run / "04-prune.onnx").write_text("stale")
    with pytest.raises(OutputError, match=r"holds files edgeshrink did not write \(04-prune.onnx, report.md\).*--force"):
        _write(run, "report.md")
    assert (run / "report.md").read_text() == "my notes" and _leftovers(tmp_path) == []


def test_force_replaces_only_what_it_writes(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "CNAME").write_text("example.org")
    with outputs.staged(run, "bundle", force=True) as tmp:
        (tmp / "index.html").write_text("new")
    assert (run / "CNAME").read_text() == "example.org" and (run / "index.html").read_text() == "new"
    assert "CNAME" not in outputs.owned(run)


def test_a_users_file_with_an_edgeshrink_name_in_an_edgeshrink_folder_needs_force(tmp_path):
    run = tmp_path / "run"
    _write(run, "a.onnx")
    (run / "report.md").write_text("my notes")  # added by the user beside an earlier run
    with pytest.raises(OutputError, match="report.md, which edgeshrink did not write"):
        _write(run, "a.onnx", "report.md")
    assert (run / "report.md").read_text() == "my notes" and _leftovers(tmp_path) == []


@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
def test_an_interrupted_run_leaves_nothing(tmp_path, error):
    with pytest.raises(error):
        with outputs.staged(tmp_path / "run", "output") as tmp:
            (tmp / "00-input.onnx").write_text("half")
            raise error()
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_rerun_leaves_the_earlier_run_as_it_was(tmp_path):
    run = tmp_path / "run"
    _write(run, "00-input.onnx", "report.json")
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    with pytest.raises(KeyboardInterrupt):
        with outputs.staged(run, "output") as tmp:
            (tmp / "00-input.onnx").write_text("new")
            raise KeyboardInterrupt
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before and _leftovers(tmp_path) == []


def test_a_file_or_a_path_under_a_file_is_refused(tmp_path):
    afile = tmp_path / "taken"
    afile.write_text("x")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        _write(afile, "a")
    with pytest.raises(OutputError, match=r"taken is a file, so .*taken/sub/run cannot be made;"):
        _write(afile / "sub" / "run", "a")
    assert afile.read_text() == "x"


def test_a_forged_marker_cannot_name_files_outside_the_folder(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (tmp_path / "precious").write_text("keep")
    (run / outputs.MARKER).write_text('{"files": ["../precious", "/etc/passwd", ".."]}')
    _write(run, "a")
    assert (tmp_path / "precious").read_text() == "keep"


def test_another_kind_of_output_is_refused_and_force_keeps_its_files(tmp_path):
    run = tmp_path / "run"
    _write(run, "model.opt.onnx", "report.json")
    with pytest.raises(OutputError, match=r"holds an optimize run edgeshrink wrote, not a web bundle.*--force"):
        with outputs.staged(run, "bundle") as tmp:
            (tmp / "index.html").write_text("page")
    assert sorted(p.name for p in run.iterdir()) == [outputs.MARKER, "model.opt.onnx", "report.json"]
    with outputs.staged(run, "bundle", force=True) as tmp:
        (tmp / "index.html").write_text("page")
    assert outputs.kind_of(run) == "bundle" and (run / "model.opt.onnx").read_text() == "model.opt.onnx"


@pytest.mark.parametrize("where", ["itself", "its folder", "a folder around it"])
def test_nothing_replaces_its_own_input_even_with_force(tmp_path, where):
    run = tmp_path / "runs" / "run"
    _write(run, "model.opt.onnx")
    given = run / "model.opt.onnx"
    target = {"itself": given, "its folder": run, "a folder around it": tmp_path / "runs"}[where]
    with pytest.raises(OutputError, match="this command's own input"):
        if where == "itself":
            outputs.check_file(target, "CSV table", ".csv", force=True, inputs=[given])
        else:
            outputs.check_target(target, "output", force=True, inputs=[given])


def test_a_file_is_replaced_only_when_its_kind_recognises_it(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("the user's")
    ours = lambda path: path.read_text() == "ours"  # noqa: E731
    with pytest.raises(OutputError, match="t.csv exists and is not a CSV table edgeshrink wrote.*--force"):
        outputs.check_file(table, "CSV table", ".csv", ours=ours)
    outputs.check_file(table, "CSV table", ".csv", ours=ours, force=True)
    table.write_text("ours")
    outputs.check_file(table, "CSV table", ".csv", ours=ours)
    outputs.check_file(tmp_path / "new" / "t.csv", "CSV table", ".csv")


def test_errors_name_the_folder_asked_for_not_the_hidden_one(tmp_path):
    run = tmp_path / "run"
    with pytest.raises(OSFailure) as caught:
        with outputs.staged(run, "output") as tmp:
            raise OSError(errno.ENOSPC, "No space left on device", str(tmp / "report.json"))
    assert str(caught.value).startswith(f"{run}/report.json cannot be written: no space left") and \
        ".partial" not in str(caught.value)
    with pytest.raises(OutputError, match=f"{run}/model.onnx is broken$"):
        with outputs.staged(run, "output") as tmp:
            raise OutputError(f"{tmp / 'model.onnx'} is broken")
    assert _leftovers(tmp_path) == []
