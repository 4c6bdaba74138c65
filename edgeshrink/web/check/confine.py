"""Request paths to files inside the bundle and nowhere else: a malformed path is refused before any file is
looked at, and a name is followed through links only where it ends inside the bundle's folder."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote

_LONE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


class BadPath(ValueError):
    """A request path no browser sends: answered with 400 before it reaches the file system."""


def split(target: str) -> tuple[list[str], bool]:
    """The decoded names along a request target's path (query dropped), and whether it ends with '/'.

    Browsers send '/' then percent-encoded ASCII, with '.' and '..' already resolved; anything else is refused
    rather than repaired, so what is served is exactly what the path names."""
    if not target.startswith("/") or not all("!" <= c <= "~" for c in target):
        raise BadPath("a path is '/' followed by printable ASCII")
    path = target.split("?", 1)[0].split("#", 1)[0]
    return [_decode(raw) for raw in path.split("/") if raw], path.endswith("/")


def _decode(raw: str) -> str:
    if _LONE_PERCENT.search(raw):
        raise BadPath("'%' must be followed by two hex digits")
    try:
        name = unquote(raw, errors="strict")
    except UnicodeDecodeError:
        raise BadPath("percent-encoded bytes must be UTF-8") from None
    if name in (".", ".."):
        raise BadPath("'.' and '..' are not names of files")
    if "/" in name or any(c < " " or c == "\x7f" for c in name):
        raise BadPath("an encoded '/', NUL or other control character")
    return name


def inside(root: Path, names: list[str]) -> Path | None:
    """Where `names` lead under `root` (a resolved folder) with every link followed, if that is inside root;
    None if it is missing, outside, or a loop of links."""
    try:
        path = root.joinpath(*names).resolve(strict=True)
    except (OSError, RuntimeError):  # RuntimeError: a loop of links (Python < 3.13)
        return None
    return path if path.is_relative_to(root) else None


def open_file(root: Path, names: list[str]) -> tuple[BinaryIO, os.stat_result] | None:
    """The regular file `names` lead to inside `root`, open, with its status; None for anything else (missing,
    outside, a folder, a pipe or device, unreadable). Checked on the open file, so what is checked is sent."""
    path = inside(root, names)
    if path is None:
        return None
    try:  # no blocking on a pipe; no link swapped in since `inside` resolved it
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    status = os.fstat(fd)
    if not stat.S_ISREG(status.st_mode):
        os.close(fd)
        return None
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb"), status
