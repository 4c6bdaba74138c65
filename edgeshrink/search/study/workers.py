"""Worker processes: each runs trials of one study until the study has `target` finished trials.

Finished means complete, or failed with a recorded reason, by any command on any machine. Workers on this
machine count and claim under one lock, so their count is exact (commands on other machines may each start
one trial past the target at the same moment). A worker that dies mid-trial leaves a RUNNING trial that the
heartbeat fails, the retry callback re-queues, and a surviving worker runs again (the dead trial does not
count, its retry does). A trial the machine ends (a full disk, no memory, a killed child process) or Ctrl-C
interrupts is queued again the same way, at once, and its worker stops: the next run finishes it.
"""

from __future__ import annotations

import os
import socket
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from edgeshrink.core.signature import Signature
from edgeshrink.search.study import failures
from edgeshrink.search.study import storage as studies
from edgeshrink.search.study.failures import MachineFailure
from edgeshrink.search.study.space import Space, suggest
from edgeshrink.search.study.trial import Base, discard, record_failure, run_trial, workspace

POLL_S = 1.0


@dataclass(frozen=True)
class Job:
    """Everything a worker needs, picklable for a spawned process."""

    spec: studies.StudySpec
    binding: dict
    space: Space
    bases: dict[str, tuple[str, Signature]]  # arch -> (model path, signature)
    trials_dir: str
    run_id: str
    target: int  # finished trials the study should hold (complete, or failed with a recorded reason)
    seed: int = 0
    val_images: int | None = None
    data_dir: str | None = None
    timeout_s: float | None = None


class TrialFailed(Exception):
    """A trial's recipe failed; the reason is recorded on the trial and the study goes on."""


class Requeued(Exception):
    """The machine or Ctrl-C ended a trial; it is queued again and its worker stops."""


def work(job: Job, index: int, lock, stopping: Callable[[], bool] = lambda: False) -> None:
    """One worker: claim a trial under the lock, run it, until the run's trials are finished (or `stopping()`)."""
    from edgeshrink.core import model as model_io

    study = studies.open_study(job.spec, job.binding, job.seed, worker=index)
    bases = {arch: Base(arch, Path(path), model_io.load_own(path), sig) for arch, (path, sig) in job.bases.items()}
    ws = workspace(bases, job.space.train_images, Path(job.trials_dir), job.data_dir, job.val_images)
    started = time.time()  # --timeout counts from a worker ready to run trials (its models and data loaded)
    while not _out_of_time(job, started):
        if stopping():
            raise KeyboardInterrupt
        lock.acquire()
        claim = _Claim(lock)
        try:
            action = _next_action(study, job)
            if action == "done":
                break
            if action == "wait":
                claim.release()
                time.sleep(max(POLL_S, job.spec.heartbeat_s / 2))
                continue
            _run_one(study, job, ws, claim)
        finally:
            claim.release()


def _run_one(study, job: Job, ws, claim) -> None:
    stops: list[BaseException] = []
    try:
        study.optimize(lambda trial: _objective(trial, job, ws, claim, stops), n_trials=1, gc_after_trial=True,
                       catch=(TrialFailed, Requeued), callbacks=[_requeue])
    except Exception as exc:  # the study's own database on a full disk, say
        why = failures.machine(exc)
        if not why:
            raise
        raise MachineFailure(f"the study could not be updated: {why}; then run the same command again") from exc
    if stops:
        raise stops[0]


class _Claim:
    """The lock a worker holds from counting until its new trial carries the run id."""

    def __init__(self, lock):
        self.lock, self.held = lock, True

    def release(self) -> None:
        if self.held:
            self.held = False
            self.lock.release()


def _next_action(study, job: Job) -> str:
    """'run' a trial, 'wait' for running ones to end or go stale, or 'done'.

    The target is the study's total (as Optuna's MaxTrialsCallback counts it), whichever command or machine
    ran its trials: the same command run again finishes what an interrupted run left, or does nothing.
    """
    from optuna.trial import TrialState

    studies.fail_stale(study)  # dead workers' trials become FAIL and are re-queued as WAITING
    trials = study.get_trials(deepcopy=False)
    finished = sum(studies.counted(t) for t in trials)
    if finished >= job.target:
        return "done"
    waiting = any(t.state == TrialState.WAITING for t in trials)
    running = sum(t.state in (TrialState.RUNNING, TrialState.WAITING) for t in trials)
    return "run" if waiting or finished + running < job.target else "wait"


def _out_of_time(job: Job, started: float) -> bool:
    return job.timeout_s is not None and time.time() - started > job.timeout_s


def _objective(trial, job: Job, ws, claim: _Claim, stops: list):
    try:
        trial.set_user_attr(studies.RUN, job.run_id)
        trial.set_user_attr("edgeshrink.worker", f"{socket.gethostname()}:{os.getpid()}")
    except KeyboardInterrupt as exc:  # Ctrl-C as the trial starts: queued again like one cut off mid-way
        _settle(trial, ws, exc, stops)
    claim.release()
    try:
        arch, steps = suggest(trial, job.space)
        record = run_trial(ws, trial.number, arch, steps)
    except (Exception, KeyboardInterrupt) as exc:
        _settle(trial, ws, exc, stops)
    trial.set_user_attr(studies.RECORD, record.to_dict())
    return record.objectives()


def _settle(trial, ws, exc: BaseException, stops: list) -> None:
    """Record the recipe's failure (it counts towards --trials), or queue the trial again when the machine or
    Ctrl-C ended it and stop this worker. Always raises, for Optuna to mark the trial failed."""
    why = "interrupted (Ctrl-C)" if isinstance(exc, KeyboardInterrupt) else failures.machine(exc)
    if not why:
        reason = failures.reason(exc)
        try:
            record_failure(ws, trial.number, reason, traceback.format_exc())
        except Exception as again:  # the disk filled up while keeping the reason
            why = failures.machine(again)
            if not why:
                raise
        else:
            trial.set_user_attr(studies.FAILURE, reason)
            raise TrialFailed(reason) from None
    discard(ws, trial.number)
    trial.set_user_attr(studies.REQUEUED, why)
    stops.append(exc if isinstance(exc, KeyboardInterrupt) else MachineFailure(
        f"trial {trial.number} stopped: {why}; it is queued again and does not count towards --trials, so the "
        "same command runs it then"))
    raise Requeued(why) from None


def _requeue(study, trial) -> None:
    if studies.REQUEUED in trial.user_attrs:
        studies.requeue(study, trial)
