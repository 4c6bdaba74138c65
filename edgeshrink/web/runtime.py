"""The onnxruntime-web files a bundle ships, installed with npm from the app's package-lock.json."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from edgeshrink.errors import BundleError

PACKAGE = "onnxruntime-web"
# The WebAssembly-only build: no WebGPU, JSEP, asyncify or JSPI variants (the page runs on the CPU).
ENTRY = "ort.wasm.min.mjs"
FILES = (ENTRY, "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
NPM_TIMEOUT = 600


@dataclass(frozen=True)
class Runtime:
    """An installed onnxruntime-web: its version and the files the page loads."""

    version: str
    files: tuple[Path, ...]


def default_app_dir() -> Path:
    """examples/web of the source checkout this package runs from."""
    return Path(__file__).resolve().parents[2] / "examples" / "web"


def ensure_runtime(app_dir: str | os.PathLike) -> Runtime:
    """The runtime pinned by app_dir's package-lock.json, running `npm ci` first if it is not installed."""
    app_dir = Path(app_dir)
    if not (app_dir / "package.json").is_file():
        raise BundleError(f"the web app folder {app_dir} has no package.json; pass the examples/web folder")
    wanted = pinned_version(app_dir)
    if installed_version(app_dir) != wanted or not all(_dist(app_dir).joinpath(f).is_file() for f in FILES):
        _npm_install(app_dir)
    version = installed_version(app_dir)
    missing = [f for f in FILES if not _dist(app_dir).joinpath(f).is_file()]
    if version != wanted or missing:
        raise BundleError(
            f"npm did not install {PACKAGE} {wanted} with {', '.join(missing) or 'the pinned version'} "
            f"in {app_dir}; delete {app_dir / 'node_modules'} and run again"
        )
    return Runtime(version, tuple(_dist(app_dir) / f for f in FILES))


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


def installed_version(app_dir: Path) -> str | None:
    try:
        return json.loads((app_dir / "node_modules" / PACKAGE / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None


def _dist(app_dir: Path) -> Path:
    return app_dir / "node_modules" / PACKAGE / "dist"


def _npm_install(app_dir: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        raise BundleError(
            f"npm is not installed, and {PACKAGE} is missing from {app_dir / 'node_modules'}; "
            "install Node.js 20 with npm, then run again"
        )
    verb = "ci" if (app_dir / "package-lock.json").is_file() else "install"
    # No install scripts: the page only needs the published dist files.
    command = [npm, verb, "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"]
    try:
        done = subprocess.run(command, cwd=app_dir, capture_output=True, text=True, timeout=NPM_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise BundleError(f"npm {verb} in {app_dir} took over {NPM_TIMEOUT} s; check the network and retry") from exc
    if done.returncode != 0:
        lines = [line.strip() for line in (done.stderr or done.stdout).splitlines()
                 if line.strip() and "complete log" not in line]
        reason = " ".join(lines[:2]) if lines else f"exit code {done.returncode}"
        raise BundleError(f"npm {verb} in {app_dir} failed: {reason}; run it there by hand to see why")
