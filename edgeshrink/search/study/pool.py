"""The worker processes of one command: started, watched, and on Ctrl-C stopped, each with its trial queued again.

One worker runs in this process. Several run in spawned processes that ignore SIGINT, so Ctrl-C reaches only
this process, which asks each worker to stop (SIGTERM, which a worker turns into the same path as Ctrl-C) and
kills one that does not stop in time; the heartbeat then retries its trial.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from edgeshrink.errors import EdgeshrinkError, SearchError
from edgeshrink.search.study import failures
from edgeshrink.search.study.failures import MachineFailure
from edgeshrink.search.study.trial import sweep
from edgeshrink.search.study.workers import POLL_S, Job, work

STOP_S = 30.0  # seconds the workers get to put their trials back after Ctrl-C, before they are killed
INTERRUPTED = 130  # a worker's exit code after Ctrl-C, as shells report it


def run_workers(job: Job, workers: int, on_poll: Callable[[], None] = lambda: None) -> list[str]:
    """Run `workers` workers until the job's trials are done; notes on workers that ended early."""
    ctx = multiprocessing.get_context("spawn")  # no forked torch/onnxruntime thread state
    try:
        if workers == 1:
            work(job, 0, ctx.Lock())
            return []
        return _processes(ctx, job, workers, on_poll)
    finally:
        sweep(Path(job.trials_dir))  # what a killed worker's trial left


def _processes(ctx, job: Job, workers: int, on_poll) -> list[str]:
    lock, said = ctx.Lock(), ctx.SimpleQueue()
    with _sigint_ignored():  # inherited by the spawned workers
        procs = [ctx.Process(target=_entry, args=(job, i, lock, said), name=f"edgeshrink-worker-{i}")
                 for i in range(workers)]
        for proc in procs:
            proc.start()
    try:
        while any(p.is_alive() for p in procs):
            on_poll()
            time.sleep(POLL_S)
    except BaseException:  # Ctrl-C: the workers put their trials back before this process ends
        _stop(procs)
        raise
    return _notes(procs, _drain(said))


def _entry(job: Job, index: int, lock, said) -> None:
    signal.signal(signal.SIGTERM, _interrupt)
    sys.unraisablehook = _quiet
    try:
        work(job, index, lock, stopping=lambda: _asked)
    except KeyboardInterrupt:
        sys.exit(INTERRUPTED)
    except EdgeshrinkError as exc:
        said.put((index, str(exc), isinstance(exc, MachineFailure)))
        sys.exit(1)
    except Exception as exc:
        said.put((index, (f"unexpected {failures.reason(exc)}; this is a bug in edgeshrink, run with --workers 1 "
                          "--debug and report the traceback"), False))
        sys.exit(3)


_asked = False  # a worker process was asked to stop


def _interrupt(signum, frame) -> None:
    """SIGTERM from the parent: end as Ctrl-C would, once (a second signal would break the trial's clean-up)."""
    global _asked
    if not _asked:
        _asked = True
        raise KeyboardInterrupt  # where Python swallows it (a finalizer), work() sees _asked before its next trial


def _quiet(unraisable) -> None:
    if not isinstance(unraisable.exc_value, KeyboardInterrupt):
        sys.__unraisablehook__(unraisable)


@contextlib.contextmanager
def _sigint_ignored():
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _stop(procs) -> None:
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    deadline = time.monotonic() + STOP_S
    for proc in procs:
        proc.join(max(0.0, deadline - time.monotonic()))
        if proc.is_alive():
            proc.kill()
            proc.join()


def _drain(said) -> dict[int, tuple[str, bool]]:
    found = {}
    while not said.empty():
        index, message, machine = said.get()
        found[index] = (message, machine)
    return found


def _notes(procs, said: dict[int, tuple[str, bool]]) -> list[str]:
    """A note per worker that ended early; an error when none finished (the first worker's reason)."""
    notes = []
    for i, proc in enumerate(procs):
        if i in said:
            notes.append(f"worker {i} stopped: {said[i][0]}")
        elif proc.exitcode:
            notes.append(f"worker {i} (pid {proc.pid}) ended with exit code {proc.exitcode}; "
                         "a trial it left running is failed by heartbeat and retried")
    if all(p.exitcode for p in procs):
        if said:
            message, machine = said[min(said)]
            raise (MachineFailure if machine else SearchError)(message)
        raise SearchError(f"every worker died ({'; '.join(notes)}); run the same command again to continue")
    return notes
