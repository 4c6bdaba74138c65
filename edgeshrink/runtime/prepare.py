"""Turn a user's model into the graph the compiler reads: one image, the score output only, and the
operators onnxruntime's own optimizer chooses.

Compiling onnxruntime's optimized graph (extended level) instead of the model as written is what makes
int8 scores bit-identical: onnxruntime fuses QDQ pairs into QLinearConv/QGemm and runs integer
arithmetic, so the literal float semantics of the QDQ graph would disagree on a few images.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx

from edgeshrink.core.graph import without_initializer_inputs
from edgeshrink.core.model import clone, is_quantized
from edgeshrink.core.signature import Signature
from edgeshrink.engine import NUMPY_TYPES
from edgeshrink.errors import UnsupportedModel


@dataclass(frozen=True)
class Prepared:
    """The optimized graph at a fixed batch, and how many images one run of it holds."""

    model: onnx.ModelProto
    batch: int  # images per run of the compiled graph (1, or the model's fixed batch when it cannot change)
    note: str = ""


def prepare(proto: onnx.ModelProto, signature: Signature) -> Prepared:
    """The onnxruntime-optimized graph of `proto` at batch 1 (or its fixed batch), scores as the only output."""
    if signature.dtype == "float16":
        raise UnsupportedModel("float16 inputs are not supported by the compiled runtime")
    model = without_initializer_inputs(_scores_only(proto, signature))  # as inputs, onnxruntime would not fold them
    if signature.batch in (None, 0, 1):
        return Prepared(optimize(_with_batch(model, signature, 1)), 1)
    one = _with_batch(model, signature, 1)
    if _same_scores(model, one, signature):
        return Prepared(optimize(one), 1, f"fixed batch {signature.batch} compiled at batch 1")
    return Prepared(optimize(model), signature.batch,
                    f"fixed batch {signature.batch} kept: the graph does not run at batch 1")


def optimize(model: onnx.ModelProto) -> onnx.ModelProto:
    """The graph onnxruntime runs after its extended-level optimizations, with every shape it inferred."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.log_severity_level = 3
    with tempfile.TemporaryDirectory(prefix="edgeshrink-compile-") as tmp:
        target = Path(tmp) / "optimized.onnx"
        options.optimized_model_filepath = str(target)
        try:
            ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime's own exception types
            first = str(exc).strip().splitlines()[0]
            raise UnsupportedModel(f"onnxruntime cannot optimize the model: {first}") from exc
        return _record_shapes(onnx.load(str(target)))


def _record_shapes(model: onnx.ModelProto) -> onnx.ModelProto:
    """The model with value_info for every node output, read off a run of onnxruntime on a zero input.

    onnxruntime writes no shapes for the outputs of the nodes it fuses (FusedConv, QGemm...), and
    onnx's own inference does not know its com.microsoft operators; at a fixed batch a run tells all."""
    import onnxruntime as ort

    probe = clone(model)
    known = {o.name for o in probe.graph.output}
    for node in probe.graph.node:
        probe.graph.output.extend(onnx.ValueInfoProto(name=o) for o in node.output if o and o not in known)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 3
    sess = ort.InferenceSession(probe.SerializeToString(), options, providers=["CPUExecutionProvider"])
    feeds = {}
    for value in sess.get_inputs():
        if any(not isinstance(d, int) for d in value.shape):
            raise UnsupportedModel(f"input {value.name} has no fixed shape ({value.shape}) at batch 1")
        feeds[value.name] = np.zeros(value.shape, dtype=NUMPY_TYPES.get(value.type, np.float32))
    names = [o.name for o in sess.get_outputs()]
    out = clone(model)
    del out.graph.value_info[:]
    for name, value in zip(names, sess.run(names, feeds)):
        value = np.asarray(value)
        info = onnx.helper.make_tensor_value_info(name, onnx.helper.np_dtype_to_tensor_dtype(value.dtype), value.shape)
        if name in known:  # the graph output as it really comes out at this batch
            next(o for o in out.graph.output if o.name == name).CopyFrom(info)
        else:
            out.graph.value_info.append(info)
    return out


def _scores_only(proto: onnx.ModelProto, signature: Signature) -> onnx.ModelProto:
    """A copy whose only graph output is the class scores, so nothing else is computed."""
    model = clone(proto)
    outputs = list(model.graph.output)
    keep = next((o for o in outputs if o.name == signature.output_name), outputs[signature.output_index])
    del model.graph.output[:]
    model.graph.output.append(keep)
    return model


def _with_batch(model: onnx.ModelProto, signature: Signature, batch: int) -> onnx.ModelProto:
    """A copy whose input has a fixed batch (no change for a model without a batch dimension)."""
    out = clone(model)
    if signature.batch == 0:
        return out
    for value in out.graph.input:
        if value.name == signature.input_name:
            value.type.tensor_type.shape.dim[0].Clear()
            value.type.tensor_type.shape.dim[0].dim_value = batch
    for value in out.graph.output:  # a stale fixed batch on the output would contradict the new one
        dims = value.type.tensor_type.shape.dim
        if dims:
            dims[0].Clear()
            dims[0].dim_param = "batch"
    return out


def _same_scores(fixed: onnx.ModelProto, one: onnx.ModelProto, signature: Signature) -> bool:
    """Does the batch-1 copy give the first image's scores as the fixed-batch original does? Both run in
    onnxruntime opened by `engine` (not `inference`, which runs int8 models in this compiled runtime where
    onnxruntime cannot be exact, and so stands above it)."""
    from edgeshrink.engine import open_session

    def run(model: onnx.ModelProto, images: np.ndarray) -> list:
        sess, _ = open_session(model, exact=is_quantized(model))
        return sess.run(None, {signature.input_name: signature.feed(images)})

    # one image repeated: a dynamically quantized graph finds the same ranges in the batch as in the image
    pixels = np.repeat(np.random.default_rng(0).integers(0, 256, size=(1, 28, 28)).astype(np.uint8),
                       signature.batch, axis=0)
    try:
        full, single = run(fixed, pixels), run(one, pixels[:1])
    except Exception:  # the batch is baked into a Reshape or similar: the graph refuses batch 1
        return False
    a, b = np.asarray(full[0]).reshape(signature.batch, -1)[:1], np.asarray(single[0]).reshape(1, -1)
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-4, atol=1e-5)
