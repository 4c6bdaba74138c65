"""A trial whose recipe fails is recorded with its reason, counts as finished, and never stops the study."""

from __future__ import annotations

import multiprocessing
from dataclasses import replace

import optuna

from edgeshrink import model as models
from edgeshrink.search import space as spaces
from edgeshrink.search import study as studies
from edgeshrink.search.workers import Job, work


def test_failed_trials_are_recorded_and_the_study_goes_on(small_cnn, tmp_path):
    signature = models.stored_signature(models.load(small_cnn))
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
