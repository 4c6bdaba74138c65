"""Strip: drop what a model file carries besides its computation, for the last few hundred bytes.

Tensor and node names become short ("a", "b", ... "ba"), doc strings, value_info, the producer's
name and every metadata entry but the signature go. The graph input and output names stay, since
the pipeline, the manifest and the page feed and read the model by them. Weights are untouched, so
it may come after quantize. On a 3 KB model the names alone (`/features/features.0/Conv_output_0`,
`fc1.weight_quantized`) are a fifth of the gzip'd file.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Iterator

import onnx

from edgeshrink.core.model import clone, graph_inputs
from edgeshrink.core.signature import METADATA_KEY
from edgeshrink.params import param
from edgeshrink.passes.base import PassContext, PassSpec


@dataclass(frozen=True)
class StripConfig:
    """What to drop besides names and doc strings."""

    value_info: bool = param(True, "drop intermediate shape annotations (onnxruntime infers them again)")
    metadata: bool = param(True, "drop every metadata entry but edgeshrink's signature")


def _short_names() -> Iterator[str]:
    letters = string.ascii_lowercase
    size = 1
    while True:
        for i in range(len(letters) ** size):
            name, n = "", i
            for _ in range(size):
                name, n = letters[n % len(letters)] + name, n // len(letters)
            yield name
        size += 1


def run(model: onnx.ModelProto, cfg: StripConfig, ctx: PassContext) -> onnx.ModelProto:
    """A copy of `model` computing the same thing with short names and no doc strings."""
    out = clone(model)
    graph = out.graph
    if any(attr.g.node or attr.graphs for node in graph.node for attr in node.attribute):
        ctx.notes.append("strip: names kept, since subgraphs (If, Loop) may read them from outside")
        return _trim_metadata(out, cfg)
    kept = {v.name for v in [*graph_inputs(out), *graph.output]} | {""}
    fresh = (n for n in _short_names() if n not in kept)
    rename: dict[str, str] = {}

    def short(name: str) -> str:
        if name in kept:
            return name
        if name not in rename:
            rename[name] = next(fresh)
        return rename[name]

    for init in graph.initializer:
        init.name = short(init.name)
        init.doc_string = ""
    for value in graph.input:
        value.name = short(value.name)
        value.doc_string = ""
    for node in graph.node:
        node.input[:] = [short(n) for n in node.input]
        node.output[:] = [short(n) for n in node.output]
        node.name, node.doc_string = "", ""
    for value in graph.output:
        value.doc_string = ""
    if cfg.value_info:
        del graph.value_info[:]
    else:
        for value in graph.value_info:
            value.name = short(value.name)
    graph.doc_string, graph.name = "", "g"
    return _trim_metadata(out, cfg)


def _trim_metadata(out: onnx.ModelProto, cfg: StripConfig) -> onnx.ModelProto:
    out.doc_string, out.producer_name, out.producer_version = "", "", ""
    if cfg.metadata:
        signature = [p for p in out.metadata_props if p.key == METADATA_KEY]
        del out.metadata_props[:]
        out.metadata_props.extend(signature)
    return out


SPEC = PassSpec(
    name="strip",
    config=StripConfig,
    run=run,
    summary="short tensor names, no doc strings or extra metadata: the bytes around the weights (keeps the signature)",
)
