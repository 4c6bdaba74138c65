"""Run the `edgeshrink` command as a user does: a separate process, its exit code, stdout and stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

TIMEOUT = 600


@dataclass(frozen=True)
class Done:
    code: int
    out: str  # stdout without table borders, every run of whitespace one space (rich wraps and pads tables)
    err: str
    raw: str  # stdout as printed


BORDERS = {code: " " for code in range(0x2500, 0x2580)}  # rich's box-drawing characters


def _flat(text: str) -> str:
    return " ".join(text.translate(BORDERS).split())


def edgeshrink(*args, cwd: Path | None = None, env: dict | None = None, check: int | None = 0) -> Done:
    """`python -m edgeshrink ARGS`; with `check`, the exit code must be that one (the output says why not)."""
    environ = {**os.environ, "COLUMNS": "200", **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "edgeshrink", *map(str, args)], cwd=cwd, env=environ,
                          capture_output=True, text=True, timeout=TIMEOUT)
    done = Done(proc.returncode, _flat(proc.stdout), _flat(proc.stderr), proc.stdout)
    if check is not None:
        assert done.code == check, f"edgeshrink {' '.join(map(str, args))} exited {done.code}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return done
