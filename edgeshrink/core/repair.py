"""Repair what onnx.checker rejects but onnxruntime runs, saying what was repaired.

Models published by others come from exporters that predate today's checker (keras2onnx 1.5 writes
nodes out of topological order; some tools leave the graph unnamed or list an output twice). Their
users cannot re-export them, so edgeshrink fixes these defects in a copy instead of refusing them.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import numpy_helper

from edgeshrink.errors import ModelError

_FLOAT_TYPES = {onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE, onnx.TensorProto.FLOAT16,
                onnx.TensorProto.BFLOAT16}


def repair(model: onnx.ModelProto) -> tuple[onnx.ModelProto, list[str]]:
    """A repaired copy of `model` and one note per repair (no notes: the copy equals the input)."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    notes = [note for fix in (_name_graph, _drop_duplicate_outputs, _sort_nodes) if (note := fix(out.graph))]
    return out, notes


def _name_graph(graph: onnx.GraphProto) -> str:
    if graph.name:
        return ""
    graph.name = "main"
    return "the graph had no name; named it 'main'"


def _drop_duplicate_outputs(graph: onnx.GraphProto) -> str:
    seen, keep = set(), []
    for out in graph.output:
        if out.name not in seen:
            seen.add(out.name)
            keep.append(out)
    if len(keep) == len(graph.output):
        return ""
    dropped = len(graph.output) - len(keep)
    del graph.output[:]
    graph.output.extend(keep)
    return f"dropped {dropped} duplicate graph output(s)"


def _sort_nodes(graph: onnx.GraphProto) -> str:
    """Kahn's algorithm, keeping the file's order among nodes that are ready at the same time."""
    known = {i.name for i in graph.input} | {i.name for i in graph.initializer} | {""}
    available = set(known)
    if all(_needs(n) <= available and not available.update(n.output) for n in graph.node):
        return ""  # already in order
    available = known
    pending = list(graph.node)
    ordered = []
    while pending:
        ready = [n for n in pending if all(name in available for name in _needs(n))]
        if not ready:
            return ""  # a cycle or an input nobody produces: not ours to fix; the checker will say so
        for node in ready:
            available.update(node.output)
        ordered += ready
        pending = [n for n in pending if not any(n is r for r in ready)]
    copies = [onnx.NodeProto() for _ in ordered]
    for copy, node in zip(copies, ordered):
        copy.CopyFrom(node)
    del graph.node[:]
    graph.node.extend(copies)
    return "nodes were not in topological order; sorted them"


def _needs(node: onnx.NodeProto) -> set[str]:
    """A node's inputs, including the outer names its subgraphs (If, Loop, Scan) read."""
    names = set(node.input)
    for attr in node.attribute:
        for sub in list(attr.g.node if attr.HasField("g") else []) + [n for g in attr.graphs for n in g.node]:
            names |= set(sub.input)
        inner = set()
        for g in ([attr.g] if attr.HasField("g") else []) + list(attr.graphs):
            inner |= {i.name for i in g.input} | {i.name for i in g.initializer}
            inner |= {o for n in g.node for o in n.output}
        names -= inner
    return names


def check_finite(model: onnx.ModelProto, source: str) -> None:
    """Refuse weights holding NaN or infinity: such a model answers noise, and quantizing it fails later."""
    tensors = list(model.graph.initializer)
    tensors += [a.t for n in model.graph.node if n.op_type == "Constant" for a in n.attribute if a.HasField("t")]
    for tensor in tensors:
        if tensor.data_type not in _FLOAT_TYPES:
            continue
        values = numpy_helper.to_array(tensor)
        bad = int(values.size - np.isfinite(values.astype(np.float64)).sum())
        if bad:
            raise ModelError(
                f"{source}: weight {tensor.name or '(unnamed constant)'} holds {bad} NaN or infinite value(s), so "
                "the model cannot classify anything; take an intact copy or re-train it"
            )
