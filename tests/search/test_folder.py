"""The search's output folder: a setup that fails or is interrupted leaves it as it was."""

from __future__ import annotations

import pytest

from edgeshrink.search import folder


def test_a_failed_setup_removes_the_folders_it_made(tmp_path):
    out = tmp_path / "new" / "search"
    with pytest.raises(KeyboardInterrupt), folder.setting_up(out):
        (out / "bases").mkdir()
        (out / "bases" / "input.onnx").write_bytes(b"copy")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_a_failed_setup_removes_only_what_it_added(tmp_path):
    (tmp_path / "bases").mkdir()
    (tmp_path / "bases" / "input.onnx").write_bytes(b"earlier")
    with pytest.raises(RuntimeError), folder.setting_up(tmp_path):
        (tmp_path / "bases" / "zoo8-1ep.onnx").write_bytes(b"new")
        (tmp_path / "study.db").write_bytes(b"new")
        raise RuntimeError("refused")
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == ["bases", "bases/input.onnx"]


def test_a_setup_that_succeeds_claims_the_folder(tmp_path):
    from edgeshrink import outputs

    with folder.setting_up(tmp_path / "search"):
        pass
    assert outputs.kind_of(tmp_path / "search") == "search"


def test_unfinished_trials_of_ended_workers_are_swept(tmp_path):
    import os
    import subprocess

    from edgeshrink.search.study.trial import sweep

    ended = subprocess.Popen(["true"])
    ended.wait()
    for pid in (ended.pid, os.getpid(), 1):  # a worker that is gone, this process's own, one still running
        (tmp_path / f".0001.{pid}.partial").mkdir()
    (tmp_path / "0000").mkdir()
    sweep(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".0001.1.partial", "0000"]
