"""Work out a model's Signature: layout and dtype from its input, class scores from its outputs,
preprocessing from its metadata, an explicit choice, or a trial on training images."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import onnx

from edgeshrink import inference
from edgeshrink.core.graph import Graph
from edgeshrink.core.model import graph_inputs, stored_signature
from edgeshrink.core.signature import LAYOUTS, PRESETS, Preprocess, Signature
from edgeshrink.data import Split
from edgeshrink.errors import ModelError

_DTYPES = {
    onnx.TensorProto.FLOAT: "float32",
    onnx.TensorProto.DOUBLE: "float64",
    onnx.TensorProto.FLOAT16: "float16",
    onnx.TensorProto.UINT8: "uint8",
}
DETECTION_IMAGES = 5000  # enough to separate conventions that differ by a few tenths of a point
# A less common convention must lower the training loss by more than this factor to win: models that
# squash their input (a Sigmoid first) barely tell mean/std from (x-0.5)/0.5 apart, and their authors
# use the common one far more often. Every clear case among the peers differs by 2x or more.
LOSS_FACTOR = 1.25


@dataclass(frozen=True)
class Trial:
    """One preprocessing convention tried on training images."""

    accuracy: float
    loss: float | None  # mean negative log-likelihood of the true digit; None for class-index outputs


@dataclass(frozen=True)
class Detection:
    """A signature and how its preprocessing was chosen ('metadata', 'option', 'input dtype' or 'detected')."""

    signature: Signature
    source: str
    trial: dict[str, Trial]  # preset name -> its trial on training images, when detected

    def summary(self) -> str:
        """One sentence: what was chosen, by how much, and what else was tried."""
        chosen = self.signature.preprocess.name
        tried = ", ".join(f"{name} {100 * t.accuracy:.2f}%" + (f" loss {t.loss:.3f}" if t.loss is not None else "")
                          for name, t in self.trial.items())
        return (f"preprocessing detected on {DETECTION_IMAGES:,} training images: {chosen}, "
                f"{margin(self.trial, chosen)} (tried {tried})")


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
    train = training_images()
    images = train.take(DETECTION_IMAGES, start=len(train) - DETECTION_IMAGES)
    trial = try_presets(model, base, images.images, images.labels)
    return Detection(base.with_preprocess(PRESETS[choose(trial)]), "detected", trial)


def try_presets(model: onnx.ModelProto, base: Signature, pixels, labels) -> dict[str, Trial]:
    """Accuracy and loss of every preset convention on the given (training) images."""
    import numpy as np

    sess = inference.session(model, signature=base)
    trial = {}
    for name, pre in PRESETS.items():
        signature = base.with_preprocess(pre)
        if signature.output_kind == "class_index":
            trial[name] = Trial(inference.accuracy(sess, signature, pixels, labels), None)
            continue
        log_p = log_probabilities(inference.scores(sess, signature, pixels), signature.output_kind)
        accuracy = float((log_p.argmax(axis=1) == labels).mean())
        trial[name] = Trial(accuracy, float(-log_p[np.arange(len(labels)), labels].mean()))
    return trial


def log_probabilities(scores, kind: str):
    """(n, 10) log-probabilities from logits, probabilities (sigmoid ones renormalised) or log-probabilities."""
    import numpy as np

    x = np.asarray(scores, dtype=np.float64)
    if kind == "probabilities":
        x = np.log(np.clip(x / np.clip(x.sum(axis=1, keepdims=True), 1e-30, None), 1e-12, None))
    x = np.where(np.isfinite(x), x, -1e9)  # a model's inf/nan answer counts as certainly wrong, not as an error
    x = x - x.max(axis=1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=1, keepdims=True))


def choose(trial: dict[str, Trial]) -> str:
    """The convention that fits the model best, keeping every measured difference:

    1. accuracy: conventions more than two standard errors below the best are out;
    2. loss: among the rest, the lowest training loss wins, unless a more common convention (PRESETS
       order) comes within LOSS_FACTOR of it; class-index outputs have no loss, so the most common
       remaining convention wins.
    """
    best = max(t.accuracy for t in trial.values())
    noise = 2 * (best * (1 - best) / DETECTION_IMAGES) ** 0.5
    close = [name for name, t in trial.items() if t.accuracy >= best - noise]
    if any(trial[name].loss is None for name in close):
        return close[0]
    lowest = min(trial[name].loss for name in close)
    return next(name for name in close if trial[name].loss <= LOSS_FACTOR * lowest)


def margin(trial: dict[str, Trial], chosen: str) -> str:
    """How far the chosen convention is ahead of the runner-up, in the measure that decided."""
    others = {name: t for name, t in trial.items() if name != chosen}
    if not others:
        return "the only convention tried"
    pick = trial[chosen]
    if pick.loss is None:
        runner = max(others, key=lambda n: others[n].accuracy)
        return f"{100 * (pick.accuracy - others[runner].accuracy):+.2f} pt accuracy over {runner}"
    runner = min(others, key=lambda n: others[n].loss)
    ratio = others[runner].loss / pick.loss if pick.loss > 0 else float("inf")
    return f"training loss {pick.loss:.3f} vs {others[runner].loss:.3f} for {runner} ({ratio:.2f}x)"
