"""The search's output folder: which folders it may write to, and a setup that leaves no trace when refused.

A search fills its folder over many runs, so it is claimed (outputs.claim) rather than written whole. Until the
first trial starts, a run may still be refused (the study belongs to another model, the database cannot be
reached) or interrupted: then the folder is left as it was, removed if this run made it.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

from edgeshrink import outputs
from edgeshrink.atomic import write_text
from edgeshrink.errors import SearchError

MARKER = "search.json"  # which study the folder's trials belong to (an older edgeshrink's only marker)


def check(output: Path) -> None:
    """Only a new or empty folder, or an earlier search's, may be written to: never someone's other files."""
    if output.exists() and not output.is_dir():
        raise SearchError(f"{output} is a file; choose a folder for the search's outputs")
    if output.is_dir() and any(output.iterdir()) and outputs.kind_of(output) != "search":
        raise SearchError(f"{output} holds files that are not an edgeshrink search; choose an empty or new folder")


def record(output: Path, study: str, storage: str, binding: dict) -> None:
    """Write MARKER, unless it already says the same (a run on a full disk then starts its trials)."""
    text = json.dumps({"study": study, "storage": storage, "binding": binding}, indent=1) + "\n"
    path = output / MARKER
    if not path.is_file() or path.read_text() != text:
        write_text(path, text)


@contextlib.contextmanager
def setting_up(output: Path) -> Iterator[None]:
    """Claim `output` for the search; if the block fails or is interrupted, remove what it added (the folder
    itself, and any parent folder, when they did not exist before)."""
    made = _first_missing(output)
    before = set() if made else set(output.rglob("*"))
    output.mkdir(parents=True, exist_ok=True)
    try:
        outputs.claim(output, "search")
        yield
    except BaseException:
        if made:
            shutil.rmtree(made, ignore_errors=True)
        else:
            for path in sorted(set(output.rglob("*")) - before, reverse=True):  # files before their folders
                shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
        raise


def _first_missing(path: Path) -> Path | None:
    """The outermost folder of `path` that does not exist yet (None when `path` exists)."""
    missing = None
    while not path.exists():
        missing, path = path, path.parent
    return missing
