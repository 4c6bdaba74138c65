"""Work out a model's Signature: layout and dtype from its input, class scores from its outputs,
preprocessing from its metadata, an explicit choice, or a trial on training images."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import onnx

from edgeshrink import inference
from edgeshrink.data import Split
from edgeshrink.errors import ModelError
from edgeshrink.graph import Graph
from edgeshrink.model import graph_inputs, stored_signature
from edgeshrink.signature import LAYOUTS, PRESETS, Preprocess, Signature

_DTYPES = {
    onnx.TensorProto.FLOAT: "float32",
    onnx.TensorProto.DOUBLE: "float64",
    onnx.TensorProto.FLOAT16: "float16",
    onnx.TensorProto.UINT8: "uint8",
}
DETECTION_IMAGES = 5000  # enough to separate conventions that differ by a few tenths of a point
TIE_MARGIN = 0.002  # 10 of 5,000 images: closer accuracies are noise, not evidence


@dataclass(frozen=True)
class Detection:
    """A signature and how its preprocessing was chosen ('metadata', 'option' or 'detected')."""

    signature: Signature
    source: str
    trial: dict[str, float]  # preset name -> accuracy on training images, when detected


def _dims(value: onnx.ValueInfoProto) -> list[int | None]:
    shape = value.type.tensor_type.shape
    return [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None for d in shape.dim]


def _layout(dims: list[int | None], name: str) -> tuple[str, int | None]:
    """(layout, batch) for an input shape, batch None when dynamic and 0 when absent."""
    rank = len(dims)
    tail = tuple(dims[1:])
    candidates = [(layout, 1 + len(shape), shape) for layout, shape in LAYOUTS.items()]
    if tuple(dims) in (LAYOUTS["NCHW3"], LAYOUTS["NHWC3"]):  # one RGB image, not a batch of 3 or 28
        return ("NCHW3" if dims[0] == 3 else "NHWC3"), 0
    for layout, layout_rank, shape in candidates:
        if rank == layout_rank and tail == shape:
            return layout, dims[0]
    for layout, _, shape in candidates:  # one image without a batch dimension
        if tuple(dims) == shape and layout not in ("NCHW", "NHW"):
            return layout, 0
    if tuple(dims) == (28, 28):
        return "NHW", 0
    raise ModelError(
        f"input {name!r} has shape {['?' if d is None else d for d in dims]}, which cannot hold a 28x28 "
        "digit; edgeshrink takes MNIST classifiers with inputs like (N,1,28,28), (N,784), (N,28,28) or (N,28,28,1)"
    )


def _class_output(model: onnx.ModelProto) -> tuple[int, str, str]:
    outputs, graph = list(model.graph.output), Graph(model)
    for index, out in enumerate(outputs):
        dims = _dims(out)
        if dims and dims[-1] == 10 and all(d in (1, None) for d in dims[1:-1]):
            return index, out.name, graph.output_kind(out.name)
    for index, out in enumerate(outputs):
        if graph.output_kind(out.name) == "class_index":
            return index, out.name, "class_index"
    shapes = ", ".join(f"{o.name}{_dims(o)}" for o in outputs)
    raise ModelError(
        f"no output holds 10 class scores (outputs: {shapes}); edgeshrink needs a 10-class MNIST classifier"
    )


def structure(model: onnx.ModelProto) -> Signature:
    """The signature implied by the graph alone, with 0..1 pixels as a placeholder preprocessing."""
    inputs = graph_inputs(model)
    if len(inputs) != 1:
        names = ", ".join(i.name for i in inputs) or "none"
        raise ModelError(f"model has {len(inputs)} inputs ({names}); an MNIST classifier takes one image input")
    inp = inputs[0]
    elem = inp.type.tensor_type.elem_type
    if elem not in _DTYPES:
        raise ModelError(
            f"input {inp.name!r} has element type {onnx.TensorProto.DataType.Name(elem)}; "
            "edgeshrink feeds float32, float64, float16 or uint8 pixels"
        )
    layout, batch = _layout(_dims(inp), inp.name)
    index, out_name, kind = _class_output(model)
    return Signature(inp.name, layout, batch, _DTYPES[elem], PRESETS["unit"], index, kind, out_name)


def detect(model: onnx.ModelProto, preprocess: Preprocess | None = None,
           training_images: Callable[[], Split] | None = None) -> Detection:
    """The full signature: explicit `preprocess` first, then the model's metadata, then a trial.

    `training_images` loads the *training* split; it is called only when the preprocessing must be guessed.
    """
    base = structure(model)
    if preprocess is not None:
        return Detection(base.with_preprocess(preprocess), "option", {})
    stored = stored_signature(model)
    if stored is not None:
        return Detection(base.with_preprocess(stored.preprocess), "metadata", {})
    if base.dtype == "uint8":
        return Detection(base.with_preprocess(PRESETS["raw"]), "input dtype", {})
    if training_images is None:
        raise ValueError("detect() needs training_images when the preprocessing is unknown")
    sess = inference.session(model)
    train = training_images()
    images = train.take(DETECTION_IMAGES, start=len(train) - DETECTION_IMAGES)
    trial = {
        name: inference.accuracy(sess, base.with_preprocess(pre), images.images, images.labels)
        for name, pre in PRESETS.items()
    }
    return Detection(base.with_preprocess(PRESETS[_preferred(trial)]), "detected", trial)


def _preferred(trial: dict[str, float]) -> str:
    """The most common convention (PRESETS order) among those within noise of the best accuracy.

    Some models barely react to the input scale; picking 0..255 for a model trained on 0..1 by a
    hair would still evaluate right but make fine-tuning after pruning train on the wrong scale.
    """
    best = max(trial.values())
    return next(name for name, acc in trial.items() if acc >= best - TIE_MARGIN)
