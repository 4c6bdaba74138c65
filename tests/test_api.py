"""The Python API: names of compared models."""

from edgeshrink.api import distinct_names


def test_two_runs_are_told_apart_by_their_folders():
    assert distinct_names(["out/a.fast/model.opt.onnx", "out/a.max/model.opt.onnx"]) == [
        "a.fast/model.opt.onnx", "a.max/model.opt.onnx"]


def test_unique_file_names_stay_short():
    assert distinct_names(["x/lenet5.onnx", "y/deep/run/model.opt.onnx", "z/run/model.opt.onnx"]) == [
        "lenet5.onnx", "deep/run/model.opt.onnx", "z/run/model.opt.onnx"]


def test_the_same_file_twice_is_numbered():
    assert distinct_names(["m.onnx", "./m.onnx"]) == ["m.onnx", "m.onnx #2"]
