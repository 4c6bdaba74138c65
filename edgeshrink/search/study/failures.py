"""Why a trial ended early, in two classes: the recipe failed (recorded, counts towards --trials), or the machine
did (a full disk, no memory, a killed process: the trial is queued again and the worker stops)."""

from __future__ import annotations

import errno

from edgeshrink.errors import EdgeshrinkError, Killed, SearchError

MAX_REASON = 300  # characters of a reason shown on the one line a failed trial gets
_DISK = "free some disk space"
_MEMORY = "free some memory or run fewer --workers"
_MACHINE_ERRNOS = {errno.ENOSPC: ("no space left on the device", _DISK), errno.EDQUOT: ("disk quota exceeded", _DISK),
                   errno.ENOMEM: ("out of memory", _MEMORY), errno.EMFILE: ("too many open files", "raise 'ulimit -n'"),
                   errno.ENFILE: ("too many open files in the system", "close some programs"),
                   errno.EIO: ("input/output error", "check the disk")}
# What native allocators (onnxruntime, torch, the C++ runtime) say when memory runs out; they raise RuntimeError.
_OUT_OF_MEMORY = ("bad_alloc", "out of memory", "can't allocate memory", "cannot allocate memory",
                  "failed to allocate memory")


class MachineFailure(SearchError):
    """The machine, not the recipe, ended a trial; the trial is queued again for the next run."""


def reason(exc: BaseException) -> str:
    """The one line a failed trial shows: an edgeshrink error's message, else the type and its text."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    text = text if isinstance(exc, EdgeshrinkError) else f"{type(exc).__name__}: {text}"
    return text if len(text) <= MAX_REASON else text[:MAX_REASON - 3] + "..."


def machine(exc: BaseException) -> str:
    """What the machine ran out of and the fix, if it ended the trial ('' when the recipe is to blame), found
    anywhere in the chain of causes (edgeshrink's errors keep the operating system's)."""
    for link in _chain(exc):
        code = getattr(link, "errno", None)
        if isinstance(link, (OSError, EdgeshrinkError)) and code in _MACHINE_ERRNOS:
            return "; ".join(_MACHINE_ERRNOS[code])
        if isinstance(link, Killed):
            return str(link)
        if isinstance(link, MemoryError) or (
                not isinstance(link, EdgeshrinkError) and any(s in str(link).lower() for s in _OUT_OF_MEMORY)):
            return f"out of memory; {_MEMORY}"
    return ""


def _chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__
