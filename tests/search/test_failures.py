"""A trial whose recipe fails is recorded with its reason, counts as finished, and never stops the study."""

from __future__ import annotations

import multiprocessing
import signal
import subprocess
from dataclasses import replace

import optuna

from edgeshrink.atomic import atomic_path
from edgeshrink.core import model as model_io
from edgeshrink.errors import EdgeshrinkError, Killed, check_exit
from edgeshrink.search.study import failures
from edgeshrink.search.study import space as spaces
from edgeshrink.search.study import storage as studies
from edgeshrink.search.study.workers import Job, work


def test_failed_trials_are_recorded_and_the_study_goes_on(small_cnn, tmp_path):
    signature = model_io.stored_signature(model_io.load(small_cnn))
    broken = replace(signature, input_name="no_such_input")  # every trial's model then fails to run
    space, _ = spaces.make_space(["quantize"], ["input"], train_images=59800)
    spec = studies.StudySpec(studies.default_storage(tmp_path), "failing", heartbeat_s=2)
    binding = {"model": small_cnn.name, "model_sha256": "x", "space": space.describe()}
    job = Job(spec, binding, space, {"input": (str(small_cnn), broken)}, str(tmp_path / "trials"), "run-1", 2,
              val_images=200)
    work(job, 0, multiprocessing.get_context("spawn").Lock())

    trials = optuna.load_study(study_name="failing", storage=spec.storage).trials
    assert len(trials) == 2 and all(studies.counted(t) for t in trials)
    for t in trials:
        reason = t.user_attrs[studies.FAILURE]
        assert "no_such_input" in reason
        folder = tmp_path / "trials" / f"{t.number:04d}"
        said = (folder / "failure.txt").read_text()
        assert said.splitlines()[0] == reason and "Traceback (most recent call last)" in said
        assert (folder / "recipe.yaml").is_file()  # what it tried is kept



def _raised(action) -> BaseException:
    try:
        action()
    except BaseException as exc:
        return exc
    raise AssertionError("nothing was raised")


def test_a_full_disk_is_the_machine_even_inside_an_edgeshrink_error(tmp_path):
    def write_through_atomic():
        with atomic_path(tmp_path / "model.onnx"), open("/dev/full", "w") as full:  # ENOSPC, as on a full disk
            full.write("x")

    wrapped = _raised(write_through_atomic)
    assert isinstance(wrapped, EdgeshrinkError) and not isinstance(wrapped, OSError)
    assert failures.machine(wrapped) == "no space left on the device; free some disk space"


def test_running_out_of_memory_is_the_machine():
    exc = _raised(lambda: bytearray(1 << 62))
    assert isinstance(exc, MemoryError) and failures.machine(exc).startswith("out of memory;")


def test_a_child_killed_by_sigkill_is_the_machine():
    child = subprocess.Popen(["sleep", "30"])
    child.send_signal(signal.SIGKILL)
    exc = _raised(lambda: check_exit(child.wait(), "sleep"))
    assert isinstance(exc, Killed) and failures.machine(exc).startswith("sleep was killed by SIGKILL")


def test_a_bad_recipe_is_not_the_machine():
    exc = _raised(lambda: spaces.build("t", [{"pass": "prune", "sparsity": 2.0}]))
    assert isinstance(exc, EdgeshrinkError) and failures.machine(exc) == ""
    assert failures.reason(exc) == " ".join(str(exc).split())
