"""Real MNIST models with one defect each, as found in the wild, written with onnx.helper.

Each starts from the small CNN the tests train (tests/nets.py), exported without edgeshrink's metadata as
someone else's tool would leave it, so what is measured after a repair is a real classifier's accuracy, not
a hand-made graph's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

from tests import nets


def base() -> onnx.ModelProto:
    """zoo8 after 300 steps (24 KB, 5,994 parameters, about 97%), with no signature in its metadata."""
    return nets.foreign(nets.small_cnn())


def unsorted_nodes() -> onnx.ModelProto:
    """Nodes in reverse order, as keras2onnx 1.5 could write them (onnx.checker refuses, onnxruntime runs)."""
    model = base()
    nodes = list(model.graph.node)[::-1]
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    return model


def unnamed_graph() -> onnx.ModelProto:
    model = base()
    model.graph.name = ""
    return model


def duplicate_outputs() -> onnx.ModelProto:
    model = base()
    model.graph.output.append(model.graph.output[0])
    return model


def all_three() -> onnx.ModelProto:
    model = unsorted_nodes()
    model.graph.name = ""
    model.graph.output.append(model.graph.output[0])
    return model


def non_finite_weight(value: float = np.nan) -> onnx.ModelProto:
    """One weight of the first convolution replaced by NaN (or inf), as diverged training leaves them."""
    model = base()
    init = model.graph.initializer[0]
    array = numpy_helper.to_array(init).copy()
    array.flat[3] = value
    init.CopyFrom(numpy_helper.from_array(array, init.name))
    return model


def bad_metadata() -> onnx.ModelProto:
    """An edgeshrink signature in metadata_props that is not JSON (a hand-edited or truncated file)."""
    model = base()
    model.metadata_props.add(key="edgeshrink.signature", value='{"input_name": "input_1", "lay')
    return model


def external_data_without_its_file(folder: Path) -> Path:
    """A model saved with its weights in model.onnx.data, then the .data file lost in a copy."""
    path = folder / "model.onnx"
    onnx.save(base(), str(path), save_as_external_data=True, all_tensors_to_one_file=True,
              location="model.onnx.data", size_threshold=0)
    (folder / "model.onnx.data").unlink()
    return path


def folder_named_like_a_model(folder: Path) -> Path:
    path = folder / "x.onnx"
    path.mkdir()
    onnx.save(base(), str(path / "inner.onnx"))
    return path


def save(model: onnx.ModelProto, path: Path) -> Path:
    onnx.save(model, str(path))
    return path
