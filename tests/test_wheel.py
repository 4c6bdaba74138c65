"""The wheel as a new user gets it: built, installed into a fresh virtual environment outside the checkout, and
used from a folder that is not the checkout, with no compiler, linker or Node on PATH (recipes, train, optimize,
bundle, evaluate, bundle --verify)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from edgeshrink.errors import BundleError
from edgeshrink.web import find_chromium

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # each builds or installs the wheel, then trains, optimizes and bundles with it
TIMEOUT = 900


def _run(command: list, cwd: Path, env: dict | None = None) -> str:
    done = subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT)
    assert done.returncode == 0, f"{' '.join(map(str, command))} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


WITHOUT = ("clang", "wasm-ld", "wasm-opt", "lld", "ld.lld", "llvm", "node", "npm", "npx", "corepack", "zig")


def _bare_path(folder: Path) -> Path:
    """A folder of links to the system's commands, minus every compiler, linker and Node: what a user has who never
    installed them (PATH then holds nothing else)."""
    folder.mkdir()
    for system in (Path("/usr/bin"), Path("/bin")):
        for tool in system.iterdir():
            if not tool.name.startswith(WITHOUT) and not (folder / tool.name).exists():
                (folder / tool.name).symlink_to(tool)
    return folder


def _clean_env(bin_dir: Path, bare: Path) -> dict:
    """The user's environment with the fresh venv first on PATH, no toolchain and nothing pointing at the checkout."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{bare}"
    env["COLUMNS"] = "200"
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheels")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", out, ROOT], cwd=out)
    (found,) = out.glob("edgeshrink-*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """bin/ of a fresh venv with the wheel and its browser extra (torch first: the CPU build, pinned)."""
    venv = tmp_path_factory.mktemp("venv")
    assert ROOT not in venv.parents
    _run([sys.executable, "-m", "venv", venv], cwd=venv)
    pip = [venv / "bin" / "python", "-m", "pip", "install", "--quiet"]
    _run([*pip, "torch==2.13.0"], cwd=venv)
    _run([*pip, f"edgeshrink[browser] @ {wheel.as_uri()}"], cwd=venv)
    return venv / "bin"


def test_wheel_holds_the_recipes_and_the_page_but_no_runtime(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"edgeshrink/recipes/{r}.yaml" for r in ("default", "fast", "dynamic", "max")} <= names
    assert {"edgeshrink/web/app/index.html", "edgeshrink/web/app/js/app.js", "edgeshrink/web/app/js/compiled.js",
            "edgeshrink/web/app/js/later.js",
            "edgeshrink/web/app/package-lock.json"} <= names
    assert not any("node_modules" in n or n.endswith(".wasm") for n in names)


@pytest.fixture(scope="module")
def project(installed, tmp_path_factory, mnist_dir) -> tuple[Path, dict]:
    """train, optimize -r fast and bundle run by the installed wheel in a folder outside the checkout, with no
    clang, wasm-ld, Node or npm on PATH."""
    root = tmp_path_factory.mktemp("user")
    env = _clean_env(installed, _bare_path(root / "system-bin"))
    work = root / "project"
    work.mkdir()
    where = _run([installed / "python", "-c", "import edgeshrink; print(edgeshrink.__file__)"], work, env)
    assert Path(where.strip()).is_relative_to(installed.parent)  # the wheel's copy, not the checkout's
    cli = installed / "edgeshrink"
    assert _run([cli, "--version"], work, env).strip() == "edgeshrink 0.1.0"
    assert "fast" in _run([cli, "recipes"], work, env)
    _run([cli, "train", "--arch", "zoo8", "--epochs", "1", "--max-steps", "40", "-o", "zoo8.onnx"], work, env)
    assert (work / "zoo8.onnx").is_file() and (work / "zoo8.pt").is_file()
    _run([cli, "optimize", "zoo8.onnx", "--recipe", "fast", "-o", "opt"], work, env)
    _run([cli, "bundle", "opt", "-o", "dist"], work, env)
    return work, env


def test_installed_wheel_builds_a_compiled_page_with_nothing_but_pip(installed, project):
    work, env = project
    assert all(shutil.which(tool, path=env["PATH"]) is None for tool in ("clang", "wasm-ld", "node", "npm"))
    doc = json.loads((work / "dist" / "manifest.json").read_text())
    assert [v["runtime"] for v in doc["variants"]] == ["compiled", "compiled"]  # baseline and optimized
    assert doc["first_visit"]["total"]["brotli"] < 50_000
    measured = json.loads(_run([installed / "edgeshrink", "evaluate", "opt/model.opt.onnx", "--json"], work, env))
    assert measured["edge"]["timer"] == "wasmtime"  # no Node: the table says whose time it is
    assert measured["edge"]["accuracy"] == measured["accuracy"]
    assert sorted(p.name for p in work.iterdir()) == ["dist", "opt", "zoo8.onnx", "zoo8.pt"]


@pytest.mark.browser
def test_installed_wheel_verifies_the_page_in_chromium(installed, project):
    work, env = project
    try:
        find_chromium(None, None)
    except BundleError as exc:
        pytest.skip(f"bundle --verify needs Chromium: {exc}")
    _run([installed / "edgeshrink", "bundle", "opt", "-o", "dist", "--verify", "--images", "50", "--contexts", "1",
          "--profiles", "localhost"], work, env)
    doc = json.loads((work / "dist" / "manifest.json").read_text())
    assert [v["browser"]["images"] for v in doc["variants"]] == [50, 50]  # baseline and optimized, checked
