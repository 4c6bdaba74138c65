"""Outputs that never destroy what edgeshrink did not write: one rule for every file and folder of every command.

An output is written only where nothing is, or where edgeshrink itself wrote the same kind of output; anything
else is refused before work starts, naming --force. Nothing ever replaces a command's own input, not even with
--force, and a place that cannot be written is refused before the work too.

Every folder edgeshrink writes holds a small marker, MARKER, naming its kind and listing the files it wrote. A
new folder is written into a hidden one beside the target and moved in only when it is complete, so an
interrupted or failed run leaves the target as it was. Moving it in replaces everything the marker lists (no
stale step file of an earlier run survives) and keeps every other file. A file output is edgeshrink's when its
kind recognises its content (an exported model, a rendered table).
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
from edgeshrink.errors import EdgeshrinkError, OutputError, from_os_error

MARKER = ".edgeshrink.json"
# A folder's kind as its marker spells it -> how messages name it.
KINDS = {"output": "optimize run", "bundle": "web bundle", "search": "search"}
_FOREIGN_KIND = {"search.json": "search"}  # folders an edgeshrink search wrote before they had a marker


def _marker(folder: Path) -> dict | None:
    try:
        doc = json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def owned(folder: Path) -> set[str] | None:
    """The names edgeshrink wrote into `folder` (from its marker), or None if it has no readable marker."""
    files = (_marker(folder) or {}).get("files")
    if not isinstance(files, list):
        return None
    return {name for name in files if isinstance(name, str) and "/" not in name and name not in ("", ".", "..")}


def kind_of(folder: Path) -> str | None:
    """The kind of output edgeshrink wrote into `folder` (a key of KINDS), or None."""
    kind = (_marker(folder) or {}).get("kind")
    if kind in KINDS:
        return kind
    return next((k for name, k in _FOREIGN_KIND.items() if (folder / name).is_file()), None)


def claim(folder: Path, kind: str) -> None:
    """Mark a folder that a command fills over time (a search) as edgeshrink's `kind`; it lists no files."""
    if kind_of(folder) != kind:
        (folder / MARKER).write_text(json.dumps({"generator": "edgeshrink", "kind": kind, "files": []}, indent=1))


def check_file(target: str | os.PathLike, kind: str, suffix: str, *, ours=None, force: bool = False,
               inputs=()) -> None:
    """Refuse a file target before any work is done for it: a folder, a path under a file, one of the command's
    inputs, a place that cannot be written, or an existing file that `ours(path)` does not recognise as the
    same kind of output edgeshrink wrote (unless `force`)."""
    target = Path(target)
    if target.is_dir():
        raise OutputError(f"{target} is a folder; pass a file path for the {kind} (a name ending in {suffix})")
    _check_parents(target, kind)
    _refuse_inputs(target, inputs, f"the {kind}")
    if (target.exists() or target.is_symlink()) and not force and not (ours and target.is_file() and ours(target)):
        raise OutputError(f"{target} exists and is not a {kind} edgeshrink wrote; choose another path, or pass "
                          "--force to replace it")
    _check_writable(_nearest_folder(target.parent), target)


def _nearest_folder(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _check_parents(target: Path, kind: str) -> None:
    ancestor = _nearest_folder(target.parent)
    if not ancestor.is_dir():
        raise OutputError(f"{ancestor} is a file, so {target} cannot be made; choose another place for the {kind}")


def _refuse_inputs(target: Path, inputs, what: str) -> None:
    """Nothing replaces its own input: refused even with --force."""
    where = target.resolve()
    for given in inputs:
        source = Path(given).resolve()
        if source == where:
            how = "is"
        elif where in source.parents:
            how = f"holds {given},"
        elif source in where.parents and where.exists():
            how = f"is inside {given},"
        else:
            continue
        raise OutputError(f"{target} {how} this command's own input; choose another place for {what}")


def _check_writable(folder: Path, target: Path) -> None:
    """Create and remove a file in `folder`: the operating system's answer, before the work rather than after."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".edgeshrink-probe.", dir=folder)
    except OSError as exc:
        raise from_os_error(OSError(exc.errno, exc.strerror, str(target))) from None
    os.close(fd)
    os.unlink(probe)


def check_target(target: Path, kind: str, force: bool = False, legacy: set[str] = frozenset(), inputs=()) -> None:
    """Refuse a folder target that is a file, lies under a file, would replace one of `inputs`, cannot be
    written, holds another kind of edgeshrink output or files edgeshrink did not write (the last two unless
    `force`).

    `legacy`: names an older edgeshrink wrote before folders had a marker, when `target` is such a folder."""
    target = Path(target)
    name = KINDS[kind]
    _check_parents(target, f"{name} folder")
    _refuse_inputs(target, inputs, f"the {name}")
    if not target.exists():
        _check_writable(_nearest_folder(target.parent), target)
        return
    if not target.is_dir():
        raise OutputError(f"{target} is a file, not a folder; choose another {name} folder or remove the file")
    found = kind_of(target)
    if found not in (None, kind) and not force:
        raise OutputError(f"{target} holds {_a(KINDS[found])} edgeshrink wrote, not {_a(name)}; choose another folder, "
                          f"or pass --force to write beside its files")
    foreign = sorted({p.name for p in target.iterdir()} - _ours(target, kind, legacy) - {MARKER})
    if foreign and found is None and owned(target) is None and not force:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise OutputError(f"{target} holds files edgeshrink did not write ({shown}); choose an empty or new "
                          f"{name} folder, or pass --force to replace only edgeshrink's files there")
    _check_writable(target, target)


def _a(noun: str) -> str:
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


def _ours(target: Path, kind: str, legacy: set[str]) -> set[str]:
    """What a new output of `kind` may replace in `target`: the files its marker lists if it is the same kind."""
    if kind_of(target) not in (None, kind):
        return set()
    listed = owned(target)
    return set(legacy) if listed is None else listed


@contextlib.contextmanager
def staged(target: str | os.PathLike, kind: str, force: bool = False,
           legacy: set[str] = frozenset(), inputs=()) -> Iterator[Path]:
    """Yield a hidden folder beside `target` to write into; on success it replaces edgeshrink's files in
    `target`, on any error or Ctrl-C it is removed and `target` stays as it was. Errors name `target`, never
    the hidden folder."""
    target = Path(target)
    check_target(target, kind, force, legacy, inputs)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    try:
        yield tmp
        _mark(tmp, kind)
        tmp.chmod(0o777 & ~current_umask())  # mkdtemp made it private; outputs get the user's usual mode
        _commit(tmp, target, kind, force, legacy)
    except OSError as exc:
        if str(tmp) not in str(exc.filename):
            raise
        raise from_os_error(OSError(exc.errno, exc.strerror, str(exc.filename).replace(str(tmp), str(target)))) from None
    except EdgeshrinkError as exc:
        if str(tmp) not in str(exc):
            raise
        raise type(exc)(str(exc).replace(str(tmp), str(target))) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _mark(folder: Path, kind: str) -> None:
    names = sorted(p.name for p in folder.iterdir()) + [MARKER]
    (folder / MARKER).write_text(json.dumps({"generator": "edgeshrink", "kind": kind, "files": names}, indent=1))


def _commit(tmp: Path, target: Path, kind: str, force: bool, legacy: set[str]) -> None:
    """Move the finished folder in: whole if nothing else is there, else file by file."""
    if not target.exists():
        os.replace(tmp, target)
        return
    ours = _ours(target, kind, legacy)
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
