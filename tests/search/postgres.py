"""A private PostgreSQL server in a temporary folder (Debian's postgresql binaries), for the search tests.

initdb refuses to run as root, so as root (CI) the server runs as the `postgres` system user via runuser.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

USER = "edgeshrink"


def binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_owner(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


@contextlib.contextmanager
def server() -> Iterator[str]:
    """A running server with database `edgeshrink`; yields its URL and stops it afterwards."""
    bin_dir = binaries()
    root = Path(tempfile.mkdtemp(prefix="edgeshrink-pg-"))
    data, port = root / "data", _free_port()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        root.chmod(0o700)

    def run(*cmd):
        return subprocess.run(_as_owner([str(c) for c in cmd]), check=True, capture_output=True, text=True)

    try:
        run(bin_dir / "initdb", "-D", data, "-U", USER, "--auth=trust", "--no-sync")
        run(bin_dir / "pg_ctl", "-D", data, "-l", root / "log", "-w", "-t", "60", "start",
            "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off")
        run(bin_dir / "createdb", "-h", "127.0.0.1", "-p", port, "-U", USER, USER)
        yield f"postgresql://{USER}@127.0.0.1:{port}/{USER}"
    finally:
        subprocess.run(_as_owner([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
