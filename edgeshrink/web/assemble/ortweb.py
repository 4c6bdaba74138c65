"""The page shipped as package data, and the onnxruntime-web files installed with npm into a user cache."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from edgeshrink.errors import BundleError

PACKAGE = "onnxruntime-web"
# The WebAssembly-only build: no WebGPU, JSEP, asyncify or JSPI variants (the page runs on the CPU).
ENTRY = "ort.wasm.min.mjs"
FILES = (ENTRY, "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
PIN_FILES = ("package.json", "package-lock.json")
ENV_VAR = "EDGESHRINK_ORT_DIR"
NPM_TIMEOUT = 600


@dataclass(frozen=True)
class Runtime:
    """An installed onnxruntime-web: its version, the folder npm installed it in, the files the page loads."""

    version: str
    folder: Path
    files: tuple[Path, ...]


def default_app_dir() -> Path:
    """The page that ships inside the package (edgeshrink/web/app)."""
    return Path(str(resources.files("edgeshrink.web") / "app"))


def cache_root(override: str | os.PathLike | None = None) -> Path:
    """Where npm installs onnxruntime-web, one folder per version: the explicit override, else
    $EDGESHRINK_ORT_DIR, else ~/.cache/edgeshrink/onnxruntime-web (honouring XDG_CACHE_HOME)."""
    if override:
        return Path(override).expanduser()
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "edgeshrink" / PACKAGE


def ensure_runtime(app_dir: str | os.PathLike | None = None, cache: str | os.PathLike | None = None) -> Runtime:
    """The runtime pinned by the app's package-lock.json, installed with `npm ci` into the cache if missing.

    Nothing is written into the app folder (it may be an installed package) or the user's project.
    """
    app_dir = Path(app_dir) if app_dir else default_app_dir()
    if not (app_dir / "package.json").is_file():
        raise BundleError(f"the web app folder {app_dir} has no package.json; pass the page's folder")
    wanted = pinned_version(app_dir)
    folder = cache_root(cache) / wanted
    if installed_version(folder) != wanted or not all(_dist(folder).joinpath(f).is_file() for f in FILES):
        _install(app_dir, folder)
    version = installed_version(folder)
    missing = [f for f in FILES if not _dist(folder).joinpath(f).is_file()]
    if version != wanted or missing:
        raise BundleError(
            f"npm did not install {PACKAGE} {wanted} with {', '.join(missing) or 'the pinned version'} "
            f"in {folder}; delete that folder and run again"
        )
    return Runtime(version, folder, tuple(_dist(folder) / f for f in FILES))


def pinned_version(app_dir: Path) -> str:
    lock = app_dir / "package-lock.json"
    if lock.is_file():
        packages = json.loads(lock.read_text()).get("packages", {})
        version = packages.get(f"node_modules/{PACKAGE}", {}).get("version")
        if version:
            return version
    spec = json.loads((app_dir / "package.json").read_text()).get("dependencies", {}).get(PACKAGE)
    if not spec:
        raise BundleError(f"{app_dir / 'package.json'} does not depend on {PACKAGE}; add it")
    return spec.lstrip("^~=")


def installed_version(folder: Path) -> str | None:
    try:
        return json.loads((folder / "node_modules" / PACKAGE / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


def _dist(folder: Path) -> Path:
    return folder / "node_modules" / PACKAGE / "dist"


def _install(app_dir: Path, folder: Path) -> None:
    """npm ci the app's pin into a scratch folder beside `folder`, then move it into place whole."""
    npm = shutil.which("npm")
    if npm is None:
        raise BundleError(
            f"npm is not installed, and {PACKAGE} is missing from {folder}; "
            "install Node.js 20 with npm, then run again"
        )
    folder.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".tmp", dir=folder.parent))
    try:
        for name in PIN_FILES:
            if (app_dir / name).is_file():
                shutil.copyfile(app_dir / name, scratch / name)
        _npm(npm, scratch)
        if folder.exists():
            shutil.rmtree(folder)  # an incomplete install of ours: the cache folder is edgeshrink's own
        os.replace(scratch, folder)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _npm(npm: str, folder: Path) -> None:
    verb = "ci" if (folder / "package-lock.json").is_file() else "install"
    # No install scripts: the page only needs the published dist files.
    command = [npm, verb, "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"]
    try:
        done = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=NPM_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise BundleError(f"npm {verb} of {PACKAGE} took over {NPM_TIMEOUT} s; check the network and retry") from exc
    if done.returncode != 0:
        lines = [line.strip() for line in (done.stderr or done.stdout).splitlines()
                 if line.strip() and "complete log" not in line]
        reason = " ".join(lines[:2]) if lines else f"exit code {done.returncode}"
        raise BundleError(f"npm {verb} of {PACKAGE} failed: {reason}; check the network to the npm registry and retry")
