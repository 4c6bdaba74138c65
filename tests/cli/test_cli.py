"""The CLI's error boundary: one line naming the problem and the fix, a non-zero exit, no traceback."""

import subprocess
import sys

import numpy as np
import onnxruntime
import pytest

from edgeshrink.cli import main
from edgeshrink.data.idx import MNIST_FILES
from tests import exporters, nets
from tests.models import linear_classifier, save
from tests.passes.prune.cases import cnn_graph


def one_line_error(capsys, argv) -> str:
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 1, err
    assert err.startswith("error: ") and "Traceback" not in err
    return " ".join(err.split())  # rich may wrap a long line on narrow terminals


def test_not_onnx(capsys, tmp_path):
    bad = tmp_path / "model.onnx"
    bad.write_text("hello")
    assert "is not an ONNX model" in one_line_error(capsys, ["evaluate", str(bad)])


def test_wrong_input_shape(capsys, tmp_path):
    path = save(linear_classifier(("N", 3, 32, 32)), tmp_path / "m.onnx")
    assert "cannot hold a 28x28 digit" in one_line_error(capsys, ["evaluate", path])


def test_seven_outputs(capsys, tmp_path):
    path = save(linear_classifier(outputs=7, classes=7), tmp_path / "m.onnx")
    assert "no output holds 10 class scores" in one_line_error(capsys, ["evaluate", path])


def test_missing_dataset(capsys, tmp_path):
    path = save(linear_classifier(), tmp_path / "m.onnx")
    msg = one_line_error(capsys, ["evaluate", path, "--data-dir", str(tmp_path)])
    assert "train-images-idx3-ubyte is missing" in msg and "edgeshrink data fetch" in msg


def test_corrupt_dataset(capsys, tmp_path, mnist_dir):
    for spec in MNIST_FILES:
        (tmp_path / spec.name).write_bytes((mnist_dir / spec.name).read_bytes()[:1000])
    msg = one_line_error(capsys, ["data", "info", "--data-dir", str(tmp_path)])
    assert "incomplete or corrupt" in msg


def usage_error(capsys, argv) -> str:
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err, err
    return " ".join(err.replace("│", " ").split())  # typer draws its message in a box


def test_unknown_arch(capsys):
    msg = usage_error(capsys, ["train", "--arch", "resnet50"])
    assert "Invalid value for '--arch'" in msg and "unknown architecture 'resnet50'" in msg and "lenet5" in msg


def test_debug_shows_the_traceback(tmp_path):
    bad = tmp_path / "model.onnx"
    bad.write_text("hello")
    with pytest.raises(Exception, match="is not an ONNX model"):
        main(["evaluate", str(bad), "--debug"])


def test_module_entry_point_and_help():
    proc = subprocess.run([sys.executable, "-m", "edgeshrink", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    for command in ("evaluate", "compare", "train", "optimize", "data"):
        assert command in proc.stdout


def test_evaluate_json(capsys, small_cnn, test_split):
    import json

    from edgeshrink import zoo

    assert main(["evaluate", str(small_cnn), "--json", "--no-latency"]) == 0
    out = json.loads(capsys.readouterr().out)
    in_torch = zoo.accuracy(nets.small_cnn().module, test_split)  # the same net, measured without edgeshrink
    assert out["accuracy"] == pytest.approx(in_torch, abs=1e-3) and out["signature"]["layout"] == "NCHW"


def test_passes_lists_each_parameter_with_its_values_default_and_help(capsys):
    assert main(["passes"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "static | dynamic" in out and "MinMax | Entropy | Percentile" in out
    assert "one weight scale per output channel" in out and "whole number or null" in out
    assert "whole number or auto" in out and "number or auto" in out  # bits, sparsity: a value or auto


def test_usage_error_exits_2_without_traceback(capsys):
    assert main(["evaluate", "--no-such-option"]) == 2
    err = capsys.readouterr().err
    assert "No such option" in err and "Traceback" not in err


@pytest.mark.parametrize("output, written", [
    ("runs", ("runs/zoo8.onnx", "runs/zoo8.pt")),  # a folder gets ARCH.onnx
    ("nets/small.onnx", ("nets/small.onnx", "nets/small.pt")),  # a file name is taken as given
])
def test_train_writes_onnx_and_checkpoint_then_evaluates(capsys, tmp_path, mnist_dir, output, written):
    code = main(["train", "--arch", "zoo8", "--epochs", "1", "--max-steps", "30", "-o", str(tmp_path / output)])
    out = " ".join(capsys.readouterr().out.split())
    assert code == 0, out
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.*")) == sorted(written)
    assert "/10,000 MNIST test images" in out and "mnist (metadata)" in out


def test_train_with_a_width_multiplier(capsys, tmp_path, mnist_dir):
    from edgeshrink import zoo
    from edgeshrink.core import model as model_io

    code = main(["train", "--arch", "zoo8@0.50", "--epochs", "1", "--max-steps", "10", "-o", str(tmp_path)])
    assert code == 0, capsys.readouterr().out
    saved = model_io.load(tmp_path / "zoo8@0.5.onnx")  # one spelling per width
    assert {p.key: p.value for p in saved.metadata_props}[zoo.ARCH_KEY] == "zoo8@0.5"
    restored = zoo.load_checkpoint(tmp_path / "zoo8@0.5.pt")
    assert restored.arch == "zoo8@0.5" and sum(p.numel() for p in restored.module.parameters()) == 2_202


def test_train_refuses_a_bad_width(capsys, tmp_path):
    msg = usage_error(capsys, ["train", "--arch", "zoo8@9", "-o", str(tmp_path)])
    assert "bad width multiplier '9' in 'zoo8@9'" in msg and not any(tmp_path.iterdir())


def test_train_refuses_a_folder_named_like_a_model(capsys, tmp_path):
    (tmp_path / "x.onnx").mkdir()
    assert "x.onnx is a folder" in one_line_error(capsys, ["train", "--arch", "zoo8", "-o", str(tmp_path / "x.onnx")])


def test_version(capsys):
    from importlib.metadata import version

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"edgeshrink {version('edgeshrink')}"


def test_compare_feeds_each_model_its_own_preprocessing(capsys, tmp_path, test_split):
    """One net twice, neither file saying how to feed it: on 0..1 pixels (NCHW), and behind a /255 on raw 0..255
    pixels (NHWC, as Keras exports). Fed each its own preprocessing, both score the net's accuracy."""
    weights = nets.pool_cnn()
    unit = save(exporters.plain(cnn_graph(weights)), tmp_path / "unit.onnx")
    raw255 = save(exporters.nhwc_raw255(weights), tmp_path / "raw255.onnx")
    session = onnxruntime.InferenceSession(cnn_graph(weights).SerializeToString())
    scores = session.run(None, {"image": test_split.images[:, None].astype(np.float32) / 255})[0]
    expected = f"{(scores.argmax(1) == test_split.labels).mean() * 100:.2f}%"
    md, csv = tmp_path / "cmp.md", tmp_path / "cmp.csv"
    assert main(["compare", unit, raw255, "--markdown", str(md), "--csv", str(csv)]) == 0
    rows = csv.read_text().splitlines()
    assert rows[0].startswith("model,accuracy,change") and len(rows) == 3
    assert rows[1].startswith(f"unit.onnx,{expected},+0.00 pt")
    assert rows[2].startswith(f"raw255.onnx,{expected},+0.00 pt")
    assert f"| unit.onnx | {expected} |" in md.read_text()
    assert "raw255.onnx" in capsys.readouterr().out


def test_progress_bars_write_nothing_to_a_pipe(capsys):
    """Bars are for terminals: piped stderr gets no bars and no blank line before an error message."""
    from edgeshrink.cli.console import err_console, progress

    with progress() as track, track("fine-tuning", 3) as advance:
        advance(3)
    err_console.print("error: boom")
    assert capsys.readouterr().err == "error: boom\n"
