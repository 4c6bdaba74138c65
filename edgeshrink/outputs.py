"""Output folders that never destroy what edgeshrink did not write.

Every folder edgeshrink writes holds a small marker, MARKER, listing the files it wrote. A new run is
written into a hidden folder beside the target and moved in only when it is complete, so an interrupted
or failed run leaves the target as it was. Moving it in replaces everything the marker lists (no stale
step file of an earlier run survives) and keeps every other file. A folder without a marker that holds
anything is someone else's: it is refused unless `force`, which still keeps the files it does not replace.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from edgeshrink.atomic import current_umask
from edgeshrink.errors import OutputError

MARKER = ".edgeshrink.json"


def owned(folder: Path) -> set[str] | None:
    """The names edgeshrink wrote into `folder` (from its marker), or None if it has no readable marker."""
    try:
        doc = json.loads((folder / MARKER).read_text())
        files = doc["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return {name for name in files if isinstance(name, str) and "/" not in name and name not in ("", ".", "..")}


def check_file(target: str | os.PathLike, kind: str, suffix: str) -> None:
    """Refuse a file target that is a folder or lies under a file, before any work is done for it."""
    target = Path(target)
    if target.is_dir():
        raise OutputError(f"{target} is a folder; pass a file path for the {kind}, e.g. {target / ('table' + suffix)}")
    _check_parents(target, kind)


def _check_parents(target: Path, kind: str) -> None:
    ancestor = target.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise OutputError(f"{ancestor} is a file, so {target} cannot be made; choose another place for the {kind}")


def check_target(target: Path, kind: str, force: bool = False, legacy: set[str] = frozenset()) -> None:
    """Refuse a target that is a file, lies under a file, or holds files edgeshrink did not write.

    `legacy`: names an older edgeshrink wrote before folders had a marker, when `target` is such a folder."""
    _check_parents(target, f"{kind} folder")
    if not target.exists():
        return
    if not target.is_dir():
        raise OutputError(f"{target} is a file, not a folder; choose another {kind} folder or remove the file")
    entries = {p.name for p in target.iterdir()}
    ours = owned(target)
    foreign = sorted(entries - (ours or set(legacy)) - {MARKER})
    if foreign and ours is None and not force:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise OutputError(f"{target} holds files edgeshrink did not write ({shown}); choose an empty or new "
                          f"{kind} folder, or pass --force to replace only edgeshrink's files there")


@contextlib.contextmanager
def staged(target: str | os.PathLike, kind: str, force: bool = False,
           legacy: set[str] = frozenset()) -> Iterator[Path]:
    """Yield a hidden folder beside `target` to write into; on success it replaces edgeshrink's files in
    `target`, on any error or Ctrl-C it is removed and `target` stays as it was."""
    target = Path(target)
    check_target(target, kind, force, legacy)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    try:
        yield tmp
        _mark(tmp, kind)
        tmp.chmod(0o777 & ~current_umask())  # mkdtemp made it private; outputs get the user's usual mode
        _commit(tmp, target, force, legacy)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _mark(folder: Path, kind: str) -> None:
    names = sorted(p.name for p in folder.iterdir()) + [MARKER]
    (folder / MARKER).write_text(json.dumps({"generator": "edgeshrink", "kind": kind, "files": names}, indent=1))


def _commit(tmp: Path, target: Path, force: bool, legacy: set[str]) -> None:
    """Move the finished folder in: whole if nothing else is there, else file by file."""
    if not target.exists():
        os.replace(tmp, target)
        return
    ours = owned(target)
    ours = set(legacy) if ours is None else ours
    new = {p.name for p in tmp.iterdir()}
    kept = {p.name for p in target.iterdir()} - ours
    clash = sorted(kept & new - {MARKER})
    if clash and not force:
        raise OutputError(f"{target} holds {', '.join(clash)}, which edgeshrink did not write and would replace; "
                          "move it away or pass --force")
    for name in sorted(ours | (kept & new)):
        _remove(target / name)
    for name in sorted(new):
        os.replace(tmp / name, target / name)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()

