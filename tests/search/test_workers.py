"""Two workers on one PostgreSQL study: N trials finished, none lost or counted twice, even when one
worker is killed mid-trial (its trial is failed by heartbeat and retried by the other)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import optuna
from optuna.trial import TrialState

from edgeshrink.search.study import storage as studies
from tests.search.conftest import CHEAP

TRIALS = 6


def _running_trial_pid(url: str, name: str, deadline: float) -> int:
    while time.time() < deadline:
        try:
            study = optuna.load_study(study_name=name, storage=studies.engine_url(url))
        except KeyError:
            time.sleep(0.5)
            continue
        for t in study.get_trials(deepcopy=False):
            worker = t.user_attrs.get("edgeshrink.worker")
            if t.state == TrialState.RUNNING and worker:
                time.sleep(1.0)  # well inside the trial, past the claim's lock
                return int(worker.rsplit(":", 1)[1])
        time.sleep(0.2)
    raise AssertionError("no trial started running in time")


def test_killed_worker_loses_no_trial(small_cnn, tmp_path, postgres_url):
    name = "two-workers"
    command = [sys.executable, "-c", "from edgeshrink.cli import run; run()", "search", str(small_cnn), "-o", str(tmp_path / "out"),
               "--storage", postgres_url, "--study", name, "--workers", "2", "--trials", str(TRIALS),
               "--no-remeasure", *CHEAP]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    victim = _running_trial_pid(postgres_url, name, time.time() + 240)
    assert victim != proc.pid
    os.kill(victim, signal.SIGKILL)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err

    trials = optuna.load_study(study_name=name, storage=studies.engine_url(postgres_url)).get_trials()
    counted = [t for t in trials if studies.counted(t)]
    assert len(counted) == TRIALS  # none lost, none extra
    dead = [t for t in trials if t.state == TrialState.FAIL and studies.FAILURE not in t.user_attrs]
    assert len(dead) == 1, [(t.number, t.state) for t in trials]
    retries = [t for t in counted if dead[0].number in t.system_attrs.get("retry_history", [])]
    assert len(retries) == 1 and retries[0].params == dead[0].params  # retried once, with the same recipe
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    assert "1 retried after a worker died" in out
    assert f"ended with exit code -{signal.SIGKILL}" in out
