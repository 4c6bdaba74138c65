"""Bad inputs, as a new user and a hostile one would try them: each gets one line and the right exit code.

Every case runs the real command in a subprocess and fails on any traceback in its output.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import onnx
import pytest

from edgeshrink.cli import codes
from tests import defects
from tests.models import linear_classifier


def edgeshrink(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "80"}  # a narrow terminal must still give one line
    return subprocess.run([sys.executable, "-m", "edgeshrink", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=timeout)


def assert_one_line(proc: subprocess.CompletedProcess, code: int, *fragments: str) -> str:
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output, output
    assert proc.returncode == code, output
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    if code == codes.FAILURE:
        assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
        assert "bug in edgeshrink" not in lines[0], lines[0]  # a known class of bad input, not the last resort
    for fragment in fragments:
        assert fragment in proc.stderr, proc.stderr
    return proc.stderr


@pytest.fixture(scope="module")
def bad(tmp_path_factory, mnist_dir) -> Path:
    """A folder of bad inputs, all made from the real weights of the small CNN the tests train (tests/nets.py)."""
    root = tmp_path_factory.mktemp("bad")
    defects.save(defects.base(), root / "good.onnx")
    (root / "garbage.onnx").write_bytes(b"\x00\xffnot a protobuf" * 20)
    (root / "empty.onnx").write_bytes(b"")
    defects.save(defects.non_finite_weight(), root / "nan.onnx")
    defects.save(defects.bad_metadata(), root / "badmeta.onnx")
    (root / "ext").mkdir()
    defects.external_data_without_its_file(root / "ext")
    defects.folder_named_like_a_model(root)
    (root / "afile").write_text("a file, not a folder")
    (root / "theirs").mkdir()
    (root / "theirs" / "report.md").write_text("my own report")
    (root / "theirs" / "04-prune.onnx").write_bytes(b"stale")
    (root / "binary.yaml").write_bytes(b"\xff\xfe\x00garbage")
    (root / "unknown-pass.yaml").write_text("steps:\n  - pass: sharpen\n")
    (root / "not-a-list.yaml").write_text("steps: simplify\n")
    for name, text in {"notjson": "{not json", "empty": "{}", "list": "[1, 2]"}.items():
        (root / f"report-{name}").mkdir()
        (root / f"report-{name}" / "report.json").write_text(text)
    (root / "nobundle").mkdir()
    return root


@pytest.fixture(scope="module")
def plain(tmp_path_factory) -> Path:
    """A folder for values refused on parsing: any valid ONNX file (they never read it) and an empty folder, so
    these tests need no peer model."""
    root = tmp_path_factory.mktemp("usage")
    onnx.save(linear_classifier(), str(root / "good.onnx"))
    (root / "nobundle").mkdir()
    return root


CASES = [  # (id, arguments with {d} for the bad-inputs folder, exit code, what stderr must say)
    ("missing model", ["evaluate", "{d}/missing.onnx"], 1, "does not exist"),
    ("folder named x.onnx", ["evaluate", "{d}/x.onnx"], 1, "is a folder, not a model file"),
    ("garbage bytes", ["evaluate", "{d}/garbage.onnx"], 1, "is not an ONNX model"),
    ("empty file", ["evaluate", "{d}/empty.onnx"], 1, "is not an ONNX model"),
    ("NaN weights", ["evaluate", "{d}/nan.onnx"], 1, "NaN or infinite"),
    ("external data lost", ["evaluate", "{d}/ext/model.onnx"], 1, "model.onnx.data, which is missing"),
    ("unreadable metadata", ["evaluate", "{d}/badmeta.onnx"], 1, "is unreadable"),
    ("optimize -o a file", ["optimize", "{d}/good.onnx", "-o", "{d}/afile"], 1, "is a file, not a folder"),
    ("optimize -o FILE/sub", ["optimize", "{d}/good.onnx", "-o", "{d}/afile/sub"], 1, "afile is a file"),
    ("optimize -o someone's folder", ["optimize", "{d}/good.onnx", "-o", "{d}/theirs"], 1, "did not write"),
    ("--set unknown parameter", ["optimize", "{d}/good.onnx", "--set", "quantize.colour=red"], 1, "colour"),
    ("binary recipe", ["optimize", "{d}/good.onnx", "--recipe", "{d}/binary.yaml"], 1, "not a text file"),
    ("unknown pass", ["optimize", "{d}/good.onnx", "--recipe", "{d}/unknown-pass.yaml"], 1, "sharpen"),
    ("steps not a list", ["optimize", "{d}/good.onnx", "--recipe", "{d}/not-a-list.yaml"], 1, "steps"),
    ("missing recipe", ["optimize", "{d}/good.onnx", "--recipe", "{d}/nope.yaml"], 1, "does not exist"),
    ("compare --markdown folder", ["compare", "{d}/good.onnx", "{d}/good.onnx", "--markdown", "{d}"], 1,
     "is a folder"),
    ("compare --csv under a file", ["compare", "{d}/good.onnx", "{d}/good.onnx", "--csv", "{d}/afile/t.csv"], 1,
     "afile is a file"),
    ("bundle without report", ["bundle", "{d}/nobundle", "-o", "{d}/dist"], 1, "no report.json"),
    ("bundle report not JSON", ["bundle", "{d}/report-notjson", "-o", "{d}/dist"], 1, "is not a report"),
    ("bundle report {}", ["bundle", "{d}/report-empty", "-o", "{d}/dist"], 1, "is not a report"),
    ("bundle report a list", ["bundle", "{d}/report-list", "-o", "{d}/dist"], 1, "is not a report"),
    ("serve a non-bundle", ["serve", "{d}/nobundle", "--port", "0"], 1, "is not a web bundle"),
    ("unknown option", ["evaluate", "--no-such-option"], 2, "No such option"),
    ("data dir is a file", ["data", "info", "--data-dir", "{d}/afile"], 1, "is a file, not a folder"),
    ("evaluate --data-dir a file", ["evaluate", "{d}/good.onnx", "--data-dir", "{d}/afile"], 1,
     "is a file, not a folder"),
]


@pytest.mark.parametrize("args,code,said", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_gets_one_line_and_its_exit_code(bad, args, code, said):
    before = {p: p.stat().st_mtime_ns for p in bad.rglob("*")}
    assert_one_line(edgeshrink(*[a.format(d=bad) for a in args]), code, said)
    assert {p: p.stat().st_mtime_ns for p in before if p.exists()} == before  # nothing of the user's touched
    assert not [p for p in bad.rglob("*") if p.name.endswith((".partial", ".tmp"))]


def assert_usage_error(proc: subprocess.CompletedProcess, option: str, *fragments: str) -> str:
    """Exit 2 and typer's usage error naming the option, before any work: no traceback, nothing on stdout."""
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output and proc.returncode == codes.USAGE, output
    assert not proc.stdout.strip(), proc.stdout
    said = " ".join(proc.stderr.replace("│", " ").split())  # typer draws the message in a box, wrapped
    assert said.count("Invalid value for ") == 1 and f"Invalid value for {option}" in said, said
    for fragment in fragments:
        assert fragment in said, said
    return said


GOOD = "{d}/good.onnx"
USAGE_CASES = [  # (id, arguments, the option typer names, what the reason must say): every value checked on parsing
    ("search --trials 0", ["search", GOOD, "--trials", "0"], "'--trials'", "greater than or equal to 1"),
    ("search --workers 0", ["search", GOOD, "--workers", "0"], "'--workers'", "greater than or equal to 1"),
    ("search --heartbeat 0", ["search", GOOD, "--heartbeat", "0"], "'--heartbeat'", "greater than or equal to 1"),
    ("search --val-images 50", ["search", GOOD, "--val-images", "50"], "'--val-images'", "100"),
    ("search --val-images 30000", ["search", GOOD, "--val-images", "30000"], "'--val-images'", "20000"),
    ("search --arch-epochs 0", ["search", "--arch", "tiny,zoo8", "--arch-epochs", "0"], "'--arch-epochs'", "1"),
    ("search --contexts 0", ["search", GOOD, "--contexts", "0"], "'--contexts'", "1"),
    ("search --max-finetune-epochs 0", ["search", GOOD, "--max-finetune-epochs", "0"], "'--max-finetune-epochs'",
     "greater than 0"),
    ("search --timeout -1", ["search", GOOD, "--timeout", "-1"], "'--timeout'", "greater than 0"),
    ("search --budget-ms 0", ["search", GOOD, "--budget-ms", "0"], "'--budget-ms'", "greater than 0"),
    ("search --network 5g", ["search", GOOD, "--network", "5g"], "'--network'", "'5g' is not one of localhost"),
    ("search --networks 3g", ["search", GOOD, "--networks", "4g,3g"], "'--networks'", "'3g' is not one of"),
    ("search --network not measured", ["search", GOOD, "--networks", "4g", "--budget-ms", "300", "--network",
                                       "localhost"], "'--network'", "not among the measured --networks 4g"),
    ("search --arch lenet9", ["search", "--arch", "lenet9"], "'--arch'", "unknown architecture 'lenet9'"),
    ("search --arch zoo8@0", ["search", "--arch", "zoo8,zoo8@0"], "'--arch'", "bad width multiplier '0'"),
    ("search --space colour", ["search", GOOD, "--space", "structured,colour"], "'--space'", "'colour' is not one of"),
    ("search --references", ["search", GOOD, "--references", "fast,fastest"], "'--references'",
     "unknown recipe 'fastest'"),
    ("search --preprocess", ["search", GOOD, "--preprocess", "std=0"], "'--preprocess'", "non-zero"),
    ("search without a model", ["search"], "MODEL", "nothing to search from"),
    ("bundle --runtime wasm", ["bundle", "{d}/nobundle", "--runtime", "wasm"], "'--runtime'",
     "'wasm' is not one of compiled, ort"),
    ("bundle --build tiny", ["bundle", "{d}/nobundle", "--build", "tiny"], "'--build'",
     "'tiny' is not one of fast, small, page"),
    ("bundle --profiles 3g", ["bundle", "{d}/nobundle", "--profiles", "3g"], "'--profiles'", "'3g' is not one of"),
    ("bundle --images 0", ["bundle", "{d}/nobundle", "--images", "0"], "'--images'", "1"),
    ("bundle --gallery-levels 1", ["bundle", "{d}/nobundle", "--gallery-levels", "1"], "'--gallery-levels'",
     "greater than or equal to 2"),
    ("bundle --gallery-levels 257", ["bundle", "{d}/nobundle", "--gallery-levels", "257"], "'--gallery-levels'",
     "less than or equal to 256"),
    ("train --arch lenet9", ["train", "--arch", "lenet9", "-o", "{d}/t"], "'--arch'", "unknown architecture"),
    ("train --arch lenet5@9", ["train", "--arch", "lenet5@9", "-o", "{d}/t"], "'--arch'", "between 0.25 and 4"),
    ("train --epochs 0", ["train", "--epochs", "0", "-o", "{d}/t"], "'--epochs'", "greater than or equal to 1"),
    ("train --lr 0", ["train", "--lr", "0", "-o", "{d}/t"], "'--lr'", "greater than 0"),
    ("train --max-steps 0", ["train", "--max-steps", "0", "-o", "{d}/t"], "'--max-steps'", "1"),
    ("optimize --recipe unknown", ["optimize", GOOD, "--recipe", "fastest"], "'--recipe'", "unknown recipe 'fastest'"),
    ("optimize --set without a step", ["optimize", GOOD, "--set", "sparsity=0.5"], "'--set'", "STEP.PARAM=VALUE"),
    ("optimize --set unclosed list", ["optimize", GOOD, "--set", "quantize.calibration_images=[1,2"], "'--set'",
     "is not valid YAML"),
    ("optimize --max-drop -1", ["optimize", GOOD, "--max-drop", "-1"], "'--max-drop'", "0"),
    ("optimize --min-accuracy 101", ["optimize", GOOD, "--min-accuracy", "101"], "'--min-accuracy'", "100"),
    ("evaluate std=0", ["evaluate", GOOD, "--preprocess", "std=0"], "'--preprocess'", "non-zero"),
    ("evaluate scale=1/0", ["evaluate", GOOD, "-p", "scale=1/0"], "'--preprocess'", "cannot read preprocessing"),
    ("compare --preprocess", ["compare", GOOD, GOOD, "-p", "gain=2"], "'--preprocess'", "cannot read preprocessing"),
    ("serve --port 99999", ["serve", "{d}/nobundle", "--port", "99999"], "'--port'", "65535"),
]


@pytest.mark.parametrize("args,option,said", [c[1:] for c in USAGE_CASES], ids=[c[0] for c in USAGE_CASES])
def test_bad_option_value_is_a_usage_error(plain, args, option, said):
    before = sorted(plain.rglob("*"))
    assert_usage_error(edgeshrink(*[a.format(d=plain) for a in args], timeout=60), option, said)
    assert sorted(plain.rglob("*")) == before  # refused before any work: nothing written


def _without(module: str, *args: str) -> subprocess.CompletedProcess:
    """The real CLI in a Python where `module` cannot be imported (None in sys.modules: import raises)."""
    code = (f"import sys; sys.modules[{module!r}] = None; sys.modules[{module + '.sync_api'!r}] = None\n"
            "from edgeshrink.cli import run; sys.argv[0] = 'edgeshrink'; run()")
    env = {**os.environ, "COLUMNS": "80"}
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=120)


def test_search_without_optuna_names_the_extra(plain):
    proc = _without("optuna", "search", str(plain / "good.onnx"), "-o", str(plain / "no-optuna"))
    said = assert_one_line(proc, codes.FAILURE)
    assert " ".join(said.split()) == ("error: edgeshrink search needs Optuna, which is not installed; "
                                      "pip install 'edgeshrink[search]'")
    assert not (plain / "no-optuna").exists()


def test_bundle_verify_without_playwright_names_the_extra_before_bundling(plain):
    proc = _without("playwright", "bundle", str(plain / "nobundle"), "-o", str(plain / "no-pw"), "--verify")
    said = " ".join(assert_one_line(proc, codes.FAILURE).split())
    assert "needs Playwright, which is not installed; pip install 'edgeshrink[browser]'" in said
    assert not (plain / "no-pw").exists()


def test_port_in_use(bad, built_bundle):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert_one_line(edgeshrink("serve", str(built_bundle), "--port", str(port)), 1, "already in use")


@pytest.fixture(scope="module")
def built_bundle(bad) -> Path:
    """A folder that passes serve's bundle check (index.html and manifest.json) without building one."""
    folder = bad / "fake-dist"
    folder.mkdir()
    (folder / "index.html").write_text("<!doctype html>")
    (folder / "manifest.json").write_text(json.dumps({"generator": "edgeshrink test"}))
    return folder


def _status(url: str, target: bytes) -> int:
    """The status of a GET of `target` sent as it is, as a hostile client would (no client cleans it up)."""
    address = urllib.parse.urlsplit(url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as conn:
        conn.sendall(b"GET " + target + b" HTTP/1.0\r\n\r\n")
        response = http.client.HTTPResponse(conn)
        response.begin()
        return response.status


def test_serve_answers_hostile_paths_and_serves_nothing_outside(bad, built_bundle, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(built_bundle, site)
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "key.txt").write_text("secret")
    (site / "key.txt").symlink_to(tmp_path / "private" / "key.txt")
    (site / "private").symlink_to(tmp_path / "private")
    env = {**os.environ, "COLUMNS": "1000", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "edgeshrink", "serve", str(site), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        url = re.search(r"http://127\.0\.0\.1:\d+/", proc.stdout.readline()).group()
        statuses = {target: _status(url, target) for target in (
            b"/", b"/key.txt", b"/private/key.txt", b"/private/", b"/%00", b"/%zz", b"/..%2fprivate%2fkey.txt")}
    finally:
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
    assert statuses == {b"/": 200, b"/key.txt": 404, b"/private/key.txt": 404, b"/private/": 404,
                        b"/%00": 400, b"/%zz": 400, b"/..%2fprivate%2fkey.txt": 400}
    assert "Traceback" not in stdout + stderr and "stopped" in stdout, stdout + stderr


@pytest.mark.slow
def test_ctrl_c_says_so_and_leaves_nothing(bad):
    out = bad / "interrupted"
    env = {**os.environ, "COLUMNS": "80"}
    proc = subprocess.Popen([sys.executable, "-m", "edgeshrink", "optimize", str(bad / "good.onnx"), "-r", "fast",
                             "-p", "mnist", "-o", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    deadline = time.monotonic() + 240
    while not list(bad.glob(".interrupted.*.partial")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert "Traceback" not in stdout + stderr and proc.returncode == codes.INTERRUPTED, stderr
    assert "interrupted (Ctrl-C)" in stderr
    assert not out.exists() and not list(bad.glob(".interrupted.*"))  # the same command starts clean


def _mount_tmpfs(path: Path, options: str) -> bool:
    path.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                          capture_output=True).returncode == 0


@pytest.fixture
def small_disk(tmp_path):
    """A real 600 KB file system: too small for a bundle or an optimize run of the tiny model."""
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk, "size=600k"):
        pytest.skip("mounting a small tmpfs needs root; the disk-full path is then untested here")
    yield disk
    subprocess.run(["umount", str(disk)], check=True)


@pytest.fixture
def read_only(tmp_path):
    folder = tmp_path / "ro"
    if not _mount_tmpfs(folder, "size=64k,ro"):
        pytest.skip("mounting a read-only tmpfs needs root")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


@pytest.mark.slow
def test_disk_full_while_optimizing(bad, small_disk):
    (small_disk / "keep.txt").write_text("the user's")
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * 560_000)  # leaves ~50 KB: the input model (24 KB) fits, the run does not
    proc = edgeshrink("optimize", str(bad / "good.onnx"), "-r", "fast", "-p", "mnist",
                      "-o", str(small_disk / "run"))
    said = assert_one_line(proc, 1, "no space left on the device", "free some disk space", str(small_disk / "run"))
    assert ".partial" not in said  # the folder asked for, not the hidden one it was written in
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler", "keep.txt"]


def test_read_only_output(bad, read_only):
    proc = edgeshrink("optimize", str(bad / "good.onnx"), "-r", "fast", "-p", "mnist", "-o", str(read_only / "run"))
    assert_one_line(proc, 1, "read-only file system")


# One rule for every output: written only where nothing is or where edgeshrink wrote the same kind; never over
# a command's own input; an unwritable place refused before the work.

@pytest.fixture(scope="module")
def made(tmp_path_factory, mnist_dir) -> Path:
    """A real optimize run and its bundle (of a hand-built model: no peer needed), beside the user's own files."""
    root = tmp_path_factory.mktemp("made")
    onnx.save(linear_classifier(), str(root / "good.onnx"))
    for args in (["optimize", "good.onnx", "-r", "fast", "-o", "run"], ["optimize", "good.onnx", "-r", "fast", "-o",
                 "run2"], ["bundle", "run", "-o", "dist", "--no-baseline"]):
        assert edgeshrink(*args, cwd=root).returncode == 0
    (root / "mine.onnx").write_text("the user's model")
    (root / "mine.csv").write_text("the user's table")
    (root / "mine.md").write_text("the user's notes")
    return root


OUTPUT_CASES = [  # (id, arguments run in the `made` folder, what stderr must say)
    ("bundle a run onto itself", ["bundle", "run", "-o", "run"], "run is this command's own input"),
    ("bundle a run onto itself, forced", ["bundle", "run", "-o", "run", "--force"], "own input"),
    ("bundle into a folder around the run", ["bundle", "run", "-o", ".", "--force"], ". holds run, this command's"),
    ("bundle over another run", ["bundle", "run", "-o", "run2"], "holds an optimize run edgeshrink wrote, not a web"),
    ("optimize over a bundle", ["optimize", "good.onnx", "-o", "dist"], "holds a web bundle edgeshrink wrote, not an"),
    ("optimize onto its input's run", ["optimize", "run/model.opt.onnx", "-o", "run", "--force"], "own input"),
    ("train over the user's model", ["train", "-a", "tiny", "-o", "mine.onnx"], "mine.onnx exists and is not a"),
    ("train over the user's checkpoint", ["train", "-a", "tiny", "-o", "good.onnx"], "good.onnx exists and is not a"),
    ("compare over the user's CSV", ["compare", "good.onnx", "run", "--csv", "mine.csv"], "mine.csv exists and is not"),
    ("compare over the user's notes", ["compare", "good.onnx", "run", "--markdown", "mine.md"], "--force"),
    ("compare over its input", ["compare", "good.onnx", "run", "--csv", "good.onnx", "--force"], "own input"),
    ("compare into its input run", ["compare", "run", "--markdown", "run/report.md", "--force"], "is inside run"),
]


@pytest.mark.parametrize("args,said", [c[1:] for c in OUTPUT_CASES], ids=[c[0] for c in OUTPUT_CASES])
def test_an_output_never_replaces_what_is_not_its_own(made, args, said):
    before = {p: p.read_bytes() for p in made.rglob("*") if p.is_file()}
    assert_one_line(edgeshrink(*args, cwd=made, timeout=120), codes.FAILURE, said, "choose")
    assert {p: p.read_bytes() for p in made.rglob("*") if p.is_file()} == before  # refused before any work


@pytest.mark.slow
def test_the_same_kind_of_output_is_replaced(made, tmp_path):
    for _ in range(2):
        proc = edgeshrink("compare", str(made / "good.onnx"), str(made / "run"), "--csv", str(tmp_path / "t.csv"),
                          "--markdown", str(tmp_path / "t.md"))
        assert proc.returncode == 0, proc.stderr
        proc = edgeshrink("train", "-a", "tiny", "--max-steps", "1", "-o", str(tmp_path / "tiny.onnx"))
        assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv", "t.md", "tiny.onnx", "tiny.pt"]


def test_a_bundle_that_fails_verify_is_not_written(made):
    env = {**os.environ, "EDGESHRINK_CHROMIUM": "/bin/false"}  # a real executable that is no browser
    proc = subprocess.run([sys.executable, "-m", "edgeshrink", "bundle", str(made / "run"), "-o",
                           str(made / "checked"), "--verify", "--images", "10", "--contexts", "1", "--profiles",
                           "localhost"], capture_output=True, text=True, env=env, timeout=300)
    assert_one_line(proc, codes.FAILURE, "did not start", "EDGESHRINK_CHROMIUM", "the bundle was not written")
    assert not (made / "checked").exists() and not list(made.glob(".checked.*"))


def test_train_into_a_read_only_place_fails_before_training(read_only):
    proc = edgeshrink("train", "-a", "tiny", "-o", str(read_only / "models"), timeout=60)
    assert_one_line(proc, codes.FAILURE, f"{read_only / 'models'}", "read-only file system")
    assert "trained" not in proc.stdout


def test_bundle_verify_without_a_chromium_names_both_ways_before_bundling(made):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        if Path(pw.chromium.executable_path).is_file():
            pytest.skip("Playwright's own Chromium is installed here: there is a browser without PATH")
    env = {**os.environ, "PATH": "/nonexistent"}  # and no chromium on PATH
    proc = subprocess.run([sys.executable, "-m", "edgeshrink", "bundle", str(made / "run"), "-o",
                           str(made / "nobrowser"), "--verify"], capture_output=True, text=True, env=env, timeout=120)
    assert_one_line(proc, codes.FAILURE, "no Chromium found", "python -m playwright install chromium",
                    "apt-get install -y chromium", "EDGESHRINK_CHROMIUM")
    assert not (made / "nobrowser").exists()


# `edgeshrink search` survives: Ctrl-C, failed trials, a full disk and refused runs each get one line; what the
# machine ends is queued again rather than counted; a refused run leaves the output folder as it was.

SEARCH_CHEAP = ["--val-images", "200", "--references", "", "--no-remeasure", "--heartbeat", "2"]


@pytest.fixture(scope="module")
def searchable(tmp_path_factory, mnist_dir) -> Path:
    """A hand-built float model, its int8 copy made by onnxruntime's quantizer, a file that is no model and a
    folder without MNIST."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = tmp_path_factory.mktemp("searchable")
    onnx.save(linear_classifier(), str(root / "linear.onnx"))
    quantize_dynamic(str(root / "linear.onnx"), str(root / "int8.onnx"), weight_type=QuantType.QInt8)
    (root / "garbage.onnx").write_bytes(b"\x00\xffnot a protobuf" * 20)
    (root / "nomnist").mkdir()
    return root


def _study(storage: str, name: str):
    import optuna

    from edgeshrink.search.study import storage as studies

    return optuna.load_study(study_name=name, storage=studies.engine_url(storage))


SEARCH_REFUSALS = [  # (id, arguments with {d} for `searchable`, what stderr must say)
    ("unreachable database", ["{d}/linear.onnx", "--storage", "postgresql://u:pw@127.0.0.1:1/db"],
     "cannot open the study database"),
    ("an int8 model", ["{d}/int8.onnx"], "already int8, so there is nothing to search"),
    ("an int8 model, quantize only", ["{d}/int8.onnx", "--space", "quantize"], "quantize has nothing left to do"),
    ("not a model", ["{d}/garbage.onnx"], "is not an ONNX model"),
    ("no MNIST", ["{d}/linear.onnx", "--data-dir", "{d}/nomnist"], "MNIST file"),
    ("a missing reference recipe", ["{d}/linear.onnx", "--references", "{d}/nosuch.yaml", "--remeasure"],
     "nosuch.yaml does not exist"),
]


@pytest.mark.parametrize("args,said", [c[1:] for c in SEARCH_REFUSALS], ids=[c[0] for c in SEARCH_REFUSALS])
def test_a_refused_search_leaves_nothing(searchable, tmp_path, args, said):
    out = tmp_path / "new" / "search"
    argv = ["search", "-o", str(out), "-p", "unit", *SEARCH_CHEAP, *[a.format(d=searchable) for a in args]]
    assert_one_line(edgeshrink(*argv, timeout=120), codes.FAILURE, said)
    assert not (tmp_path / "new").exists()  # not even the parent it would have made


@pytest.mark.slow
def test_a_refused_search_adds_nothing_to_an_earlier_one(searchable, tmp_path):
    out = tmp_path / "search"
    common = ["-o", str(out), "-p", "unit", "--space", "quantize", "--trials", "1", *SEARCH_CHEAP]
    assert edgeshrink("search", str(searchable / "linear.onnx"), *common).returncode == 0
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    other = tmp_path / "other.onnx"
    onnx.save(linear_classifier(seed=1), str(other))
    assert_one_line(edgeshrink("search", str(other), "--study", "linear", *common), codes.FAILURE,
                    "belongs to another model")
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before


SEARCH_USAGE = [  # (id, arguments, the option typer names, what the reason must say)
    ("in-memory SQLite", ["--storage", "sqlite:///:memory:"], "'--storage'", "one process's memory"),
    ("in-memory SQLite, short", ["--storage", "sqlite://"], "'--storage'", "one process's memory"),
    ("shared-cache memory", ["--storage", "sqlite:///file::memory:?cache=shared"], "'--storage'", "memory"),
    ("not a URL", ["--storage", "study.db"], "'--storage'", "is not a database URL"),
    ("--budget-ms nan", ["--budget-ms", "nan"], "'--budget-ms'", "greater than 0"),
    ("--timeout nan", ["--timeout", "nan"], "'--timeout'", "greater than 0"),
    ("--max-finetune-epochs -inf", ["--max-finetune-epochs", "-inf"], "'--max-finetune-epochs'", "greater than 0"),
]


@pytest.mark.parametrize("args,option,said", [c[1:] for c in SEARCH_USAGE], ids=[c[0] for c in SEARCH_USAGE])
def test_a_search_option_no_process_can_use_is_a_usage_error(searchable, tmp_path, args, option, said):
    out = tmp_path / "search"
    assert_usage_error(edgeshrink("search", str(searchable / "linear.onnx"), "-o", str(out), *args, timeout=60),
                       option, said)
    assert not out.exists()


@pytest.mark.slow
def test_a_failed_trial_is_one_line_and_its_traceback_is_kept(searchable, tmp_path):
    out = tmp_path / "search"  # a lone output layer cannot be pruned: every trial fails, each one line
    proc = edgeshrink("search", str(searchable / "linear.onnx"), "-o", str(out), "-p", "unit", "--space",
                      "unstructured", "--max-finetune-epochs", "0.25", "--trials", "2", *SEARCH_CHEAP)
    assert proc.returncode == 0 and "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    failed = [re.fullmatch(r"trial (\d+) failed: (.+)", line) for line in proc.stderr.splitlines() if line.strip()]
    assert failed and all(failed), proc.stderr  # trials that pruned nothing complete; the others fail
    assert f"{2 - len(failed)} complete, {len(failed)} failed" in proc.stdout
    for match in failed:
        kept = (out / "trials" / f"{int(match[1]):04d}" / "failure.txt").read_text()
        assert kept.splitlines()[0] == match[2] and "cannot prune" in match[2]
        assert "Traceback (most recent call last)" in kept


@pytest.mark.slow
def test_search_ctrl_c_ends_every_worker_with_one_line(small_cnn, tmp_path):
    out = tmp_path / "search"
    argv = ["search", str(small_cnn), "-o", str(out), "--space", "unstructured", "--max-finetune-epochs", "0.25",
            "--trials", "2", "--workers", "2", *SEARCH_CHEAP]
    proc = subprocess.Popen([sys.executable, "-m", "edgeshrink", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 240
    while len(list(out.glob("trials/.*.partial"))) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)  # both workers inside a trial
    assert proc.poll() is None, "the search ended before it could be interrupted"
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal does: to the command and its workers
    stdout, stderr = proc.communicate(timeout=120)
    assert "Traceback" not in stdout + stderr and proc.returncode == codes.INTERRUPTED, stderr
    assert [line for line in stderr.splitlines() if line.strip()] == [
        "interrupted (Ctrl-C); unfinished outputs were removed, so the same command starts clean"]
    assert not list(out.glob("trials/.*")), "an unfinished trial was left"
    for folder in out.glob("trials/*"):
        assert {p.name for p in folder.iterdir()} & {"trial.json", "failure.txt"}, folder

    from optuna.trial import TrialState

    from edgeshrink.search.study import storage as studies

    trials = _study(studies.default_storage(out), small_cnn.stem).trials
    interrupted = [t for t in trials if t.state == TrialState.FAIL]
    assert interrupted and all(t.user_attrs[studies.REQUEUED] == "interrupted (Ctrl-C)" for t in interrupted)
    queued = {t.system_attrs["failed_trial"]: t.params for t in trials if t.state == TrialState.WAITING}
    assert queued == {t.number: t.params for t in interrupted}  # each queued again with its recipe

    again = edgeshrink(*argv)  # the same command finishes them: none is counted twice or lost
    assert again.returncode == 0, again.stderr
    trials = _study(studies.default_storage(out), small_cnn.stem).trials
    assert sum(studies.counted(t) for t in trials) == 2
    assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]


@pytest.mark.slow
def test_search_on_a_full_disk_queues_the_trial_again(searchable, small_disk, tmp_path):
    from edgeshrink.search.study import storage as studies

    storage = f"sqlite:///{tmp_path / 'study.db'}"  # the study on a disk with room, the trials on a full one
    argv = ["search", str(searchable / "linear.onnx"), "-o", str(small_disk / "search"), "-p", "unit", "--storage",
            storage, "--space", "quantize", *SEARCH_CHEAP]
    assert edgeshrink(*argv, "--trials", "1").returncode == 0
    filler = small_disk / "filler"
    with pytest.raises(OSError), filler.open("wb") as fill:
        while True:
            fill.write(b"\0" * 4096)
            fill.flush()
    said = assert_one_line(edgeshrink(*argv, "--trials", "2"), codes.FAILURE, "trial 1 stopped",
                           "no space left on the device", "free some disk space", "queued again")
    assert "--trials" in said
    assert sorted(p.name for p in (small_disk / "search" / "trials").iterdir()) == ["0000"]
    trials = _study(storage, "linear").trials
    assert [studies.counted(t) for t in trials] == [True, False, False]  # the failed one waits, uncounted
    assert trials[2].system_attrs["failed_trial"] == 1 and trials[2].params == trials[1].params

    filler.unlink()
    assert edgeshrink(*argv, "--trials", "2").returncode == 0  # room again: the same command runs it
    trials = _study(storage, "linear").trials
    assert len(trials) == 3 and studies.counted(trials[2]) and trials[2].params == trials[1].params
