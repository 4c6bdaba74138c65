"""Structured pruning by graph surgery: remove whole channels and neurons, and the weights that read them.

A layer's kept channels are followed downstream through operators that treat channels one by one
(activations, pooling, batch norm, per-channel constants, squeeze/unsqueeze, transpose) and through
flattening, until every path ends in a weight layer whose matching inputs are cut. A path that
meets anything else (a join with another branch, a graph output, an unknown operator) leaves the
layer whole, and says why. A second graph output (say a model that also returns its features) is part
of the model's interface, so it keeps its shape: the layers feeding it keep all their channels.

Weights stored as views (a Transpose or Reshape of an initializer, as the dynamo exporter and CNTK
write them) are folded into the initializer they view, which keeps its name; a Reshape's target
shape is updated wherever it spells out the flattened size.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import onnx

from edgeshrink import inference
from edgeshrink.core.graph import attributes
from edgeshrink.core.model import clone
from edgeshrink.errors import ModelError, PassError
from edgeshrink.passes.prune import walk
from edgeshrink.passes.prune.surgery import EditableGraph
from edgeshrink.passes.prune.walk import Blocked, Flow, Slice


@dataclass
class Surgery:
    """The pruned model, the layers that lost channels, those left as asked, and why others could not."""

    model: onnx.ModelProto
    pruned: list[str] = field(default_factory=list)
    untouched: list[str] = field(default_factory=list)  # prunable, but their target kept every channel
    blocked: list[str] = field(default_factory=list)  # "<layer> (<op>): <reason>"


def _name(node: onnx.NodeProto) -> str:
    return node.name or node.output[0]


def _output_axis(g: EditableGraph, node: onnx.NodeProto) -> tuple[int, int]:
    """(axis of the weight holding one row per output channel, axis of the channels in the output)."""
    attrs = attributes(node)
    if node.op_type == "Conv":
        if attrs.get("group", 1) != 1:
            raise Blocked(f"grouped convolution (group={attrs['group']}) is left whole")
        return 0, 1
    if node.op_type == "Gemm":
        if attrs.get("transA", 0):
            raise Blocked("Gemm with transA is left whole")
        return (0 if attrs.get("transB", 0) else 1), 1
    if g.value(node.input[1]).ndim != 2:
        raise Blocked("MatMul with a batched weight is left whole")
    return 1, walk.rank(g, node.output[0]) - 1


def _bias(g: EditableGraph, node: onnx.NodeProto, size: int, keep: np.ndarray) -> list[Slice]:
    """The slice of a Conv or Gemm bias input, if the layer has one per output channel."""
    if node.op_type == "MatMul" or len(node.input) < 3 or not node.input[2]:
        return []
    bias = g.value(node.input[2])
    if bias is None:
        raise Blocked("its bias is not a constant")
    if bias.ndim == 0 or bias.shape[-1] == 1:
        return []
    if bias.shape[-1] != size:
        raise Blocked(f"its bias has shape {list(bias.shape)}")
    return [Slice(node, 2, bias.ndim - 1, keep)]


def channels(g: EditableGraph, node: onnx.NodeProto) -> int:
    """How many output channels (Conv) or neurons (Gemm, MatMul) a weight layer has."""
    weight_axis, _ = _output_axis(g, node)
    return g.value(node.input[1]).shape[weight_axis]


def _strongest(weight: np.ndarray, axis: int, count: int, norm: str) -> np.ndarray:
    rows = np.moveaxis(weight, axis, 0).reshape(weight.shape[axis], -1).astype(np.float64)
    scores = np.abs(rows).sum(1) if norm == "l1" else np.sqrt((rows ** 2).sum(1))
    return np.sort(np.argsort(-scores, kind="stable")[:count])


def _plan(g: EditableGraph, node: onnx.NodeProto, count: int, norm: str) -> list:
    """The edits that keep the `count` strongest output channels of `node` (raises Blocked)."""
    weight_axis, out_axis = _output_axis(g, node)
    weight = g.value(node.input[1])
    size = weight.shape[weight_axis]
    keep = _strongest(weight, weight_axis, count, norm)
    edits = [Slice(node, 1, weight_axis, keep), *_bias(g, node, size, keep)]
    return edits + walk.follow(g, Flow(node.output[0], out_axis, keep, size))


def _apply(g: EditableGraph, edits: list) -> None:
    """Cut every constant an edit names; all cuts of one input are made on one dedicated copy."""
    cuts: dict[tuple[int, int], list] = defaultdict(list)
    targets = {}
    for edit in edits:
        key = (id(edit.node), edit.index)
        targets[key] = edit
        cuts[key].append(edit)
    for key, group in cuts.items():
        name = g.dedicated(targets[key].node, targets[key].index)
        array = g.value(name)
        for edit in group:
            array = edit.cut(array)
        g.store(name, array)


def _finish(model: onnx.ModelProto) -> onnx.ModelProto:
    """Shapes inferred afresh (the old ones describe the unpruned tensors), then checked and loaded."""
    del model.graph.value_info[:]
    try:
        model = onnx.shape_inference.infer_shapes(model)
        onnx.checker.check_model(model)
        inference.session(model)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError, ModelError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise PassError(f"structured pruning broke the graph ({first}); use method: unstructured") from exc
    return model


def counts(model: onnx.ModelProto, class_output: str) -> dict[str, int]:
    """Output channels of every weight layer but the output layer, by the layer's output name."""
    g = EditableGraph(model)
    found = {}
    skip = {layer.output[0] for layer in g.score_layers(class_output)}
    for node in g.weight_layers():
        if node.output[0] not in skip:
            try:
                found[node.output[0]] = channels(g, node)
            except Blocked:
                continue
    return found


def prune(model: onnx.ModelProto, targets: dict[str, int], class_output: str, norm: str = "l1") -> Surgery:
    """A copy of `model` where each layer named in `targets` keeps that many output channels."""
    out = clone(model)
    g = EditableGraph(out)
    surgery, edits = Surgery(out), []
    skip = {layer.output[0] for layer in g.score_layers(class_output)}
    for node in g.weight_layers():
        if node.output[0] in skip:
            continue
        try:
            size = channels(g, node)
            count = max(1, min(size, targets.get(node.output[0], size)))
            plan = _plan(g, node, count, norm)
        except Blocked as why:
            surgery.blocked.append(f"{_name(node)} ({node.op_type}): {why}")
            continue
        if count < size:
            edits += plan
            surgery.pruned.append(_name(node))
        else:
            surgery.untouched.append(_name(node))
    if edits:
        _apply(g, edits)
        g.drop_dead()
        surgery.model = _finish(out)
    return surgery
