"""Pack: store each shared-value weight layer as codes the graph decodes (see `edgeshrink.packing`).

The last step of a recipe, after `cluster`, `quantize` and `strip`: a layer is packed only where the whole
file comes out smaller after gzip -9 and after brotli -q 11 (the team compares gzip'd files, the page sends
brotli), so a dense layer, whose steps would all be 1, stays as it is. Every pass but this one reads plain
weights: the pipeline unpacks a packed input before other steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import onnx
from onnx import numpy_helper

from edgeshrink import packing
from edgeshrink.core.graph import Graph
from edgeshrink.core.model import clone, opset
from edgeshrink.passes.base import PassContext, PassSpec
from edgeshrink.size import measure

_WEIGHT_INPUT = {"Conv": 1, "Gemm": 1, "MatMul": 1}  # the weight operand of each weight layer


@dataclass(frozen=True)
class PackConfig:
    """Nothing to choose: a layer is packed where that makes the file smaller after gzip and brotli."""


def weights(model: onnx.ModelProto) -> list[str]:
    """The initializers that are a weight layer's weights, directly or through a DequantizeLinear."""
    g = Graph(model)
    return [name for name in g.weight_initializers(_WEIGHT_INPUT) if len(g.inits[name].dims) >= 2]


def run(model: onnx.ModelProto, cfg: PackConfig, ctx: PassContext) -> onnx.ModelProto:
    """A copy of `model` whose weight layers are packed where the file gets smaller."""
    if opset(model) < packing.MIN_OPSET:
        ctx.notes.append(f"pack skipped: opset {opset(model)} has no CumSum or ScatterElements "
                         f"(opset {packing.MIN_OPSET})")
        return model
    out = clone(model)
    size = measure(out.SerializeToString())
    packed = []
    # the largest first: the nodes of a second decoding cost less after compression than the first's
    for name in sorted(weights(out), key=lambda n: -_array(out, n).size):
        codes = packing.encode(_array(out, name))
        if codes is None:
            continue
        trial = clone(out)
        packing.pack(trial, name, codes)
        trial_size = measure(trial.SerializeToString())
        if trial_size.gzip < size.gzip and trial_size.brotli < size.brotli:
            out, size = trial, trial_size
            packed.append(name)
    if not packed:
        ctx.notes.append("pack: no weight layer came out smaller after gzip and brotli; nothing packed")
        return model
    ctx.notes.append(f"pack: {len(packed)} of {len(weights(model))} weight layers packed "
                     f"({size.gzip:,} B gzip, {size.brotli:,} B brotli)")
    return out


def _array(model: onnx.ModelProto, name: str):
    return numpy_helper.to_array(next(i for i in model.graph.initializer if i.name == name))


SPEC = PassSpec(
    name="pack",
    config=PackConfig,
    run=run,
    summary="shared-value weights stored as byte codes and steps between non-zero weights, decoded by the graph",
    last=True,  # other passes read plain weights (and onnx-simplifier would fold the decoding back)
)
