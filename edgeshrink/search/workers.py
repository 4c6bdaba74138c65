"""Worker processes: each runs trials of one study until the study has `target` finished trials.

Finished means complete, or failed with a recorded reason, by any command on any machine. Workers on this
machine count and claim under one lock, so their count is exact (commands on other machines may each start
one trial past the target at the same moment). A worker that dies mid-trial leaves a RUNNING trial that the
heartbeat fails, the retry callback re-queues, and a surviving worker runs again (the dead trial does not
count, its retry does).
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from edgeshrink.errors import EdgeshrinkError, SearchError
from edgeshrink.search import study as studies
from edgeshrink.search.space import Space, suggest
from edgeshrink.search.trial import Base, record_failure, run_trial, workspace
from edgeshrink.signature import Signature

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


def run_workers(job: Job, workers: int, on_poll: Callable[[], None] = lambda: None) -> list[str]:
    """Run `workers` processes (in this process when 1) until the job's trials are done; notes on deaths."""
    ctx = multiprocessing.get_context("spawn")  # no forked torch/onnxruntime thread state
    lock = ctx.Lock()
    if workers == 1:
        work(job, 0, lock)
        return []
    procs = [ctx.Process(target=_entry, args=(job, i, lock), name=f"edgeshrink-worker-{i}") for i in range(workers)]
    for proc in procs:
        proc.start()
    notes: list[str] = []
    while any(p.is_alive() for p in procs):
        on_poll()
        time.sleep(POLL_S)
    for i, proc in enumerate(procs):
        proc.join()
        if proc.exitcode:
            notes.append(f"worker {i} (pid {proc.pid}) ended with exit code {proc.exitcode}; "
                         "a trial it left running is failed by heartbeat and retried")
    if all(p.exitcode for p in procs):
        raise SearchError(f"every worker died ({'; '.join(notes)}); run the same command again to continue")
    return notes


def _entry(job: Job, index: int, lock) -> None:
    try:
        work(job, index, lock)
    except SearchError as exc:
        raise SystemExit(f"worker {index}: {exc}") from None
    except Exception:
        traceback.print_exc()
        raise SystemExit(3) from None


def work(job: Job, index: int, lock) -> None:
    """One worker: claim a trial under the lock, run it, until the run's trials are finished."""
    from edgeshrink import model as models

    study = studies.open_study(job.spec, job.binding, job.seed, worker=index)
    bases = {arch: Base(arch, Path(path), models.load(path), sig) for arch, (path, sig) in job.bases.items()}
    ws = workspace(bases, job.space.train_images, Path(job.trials_dir), job.data_dir, job.val_images)
    started = time.time()  # --timeout counts from a worker ready to run trials (its models and data loaded)
    while not _out_of_time(job, started):
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
            study.optimize(lambda trial: _objective(trial, job, ws, claim), n_trials=1, catch=(TrialFailed,),
                           gc_after_trial=True)
        finally:
            claim.release()


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


def _objective(trial, job: Job, ws, claim: _Claim):
    trial.set_user_attr(studies.RUN, job.run_id)
    trial.set_user_attr("edgeshrink.worker", f"{socket.gethostname()}:{os.getpid()}")
    claim.release()
    try:
        arch, steps = suggest(trial, job.space)
        record = run_trial(ws, trial.number, arch, steps)
    except Exception as exc:  # any failure of one recipe is recorded; the study goes on
        reason = _reason(exc)
        trial.set_user_attr(studies.FAILURE, reason)
        record_failure(ws, trial.number, reason)
        raise TrialFailed(reason) from exc
    trial.set_user_attr("edgeshrink.record", record.to_dict())
    return record.objectives()


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if isinstance(exc, EdgeshrinkError) else f"{type(exc).__name__}: {text}"
