"""Reading a file edgeshrink wrote itself: no repair and no checker, and a damaged or missing one is one line."""

from __future__ import annotations

import pytest

from edgeshrink.core import model as model_io
from edgeshrink.errors import ModelError
from tests.models import linear_classifier


def test_a_saved_model_reads_back_as_written(tmp_path):
    proto = linear_classifier()
    model_io.save(proto, tmp_path / "m.onnx")
    assert model_io.load_own(tmp_path / "m.onnx").SerializeToString() == proto.SerializeToString()


def test_a_damaged_or_missing_file_names_the_fix(tmp_path):
    (tmp_path / "m.onnx").write_bytes(b"not a model")
    with pytest.raises(ModelError, match="is not the ONNX model edgeshrink wrote .*; run the command that writes"):
        model_io.load_own(tmp_path / "m.onnx")
    with pytest.raises(ModelError, match="does not exist; run the command that writes it again"):
        model_io.load_own(tmp_path / "gone.onnx")
