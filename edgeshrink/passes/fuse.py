"""Fuse: onnxoptimizer's fusions and eliminations, BatchNormalization folded into its Conv or Gemm,
then onnxruntime's portable basic-level optimizations (constant folding, MatMul + Add -> Gemm).

Only transformations whose output is plain ONNX: onnxruntime's extended and layout levels (NCHWc,
contrib fusions) would give a model onnxruntime-web may not run, so they are never used.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

from edgeshrink.core.graph import Graph, attributes, without_initializer_inputs
from edgeshrink.core.model import describe
from edgeshrink.errors import PassError, reason
from edgeshrink.params import param
from edgeshrink.passes.base import PassContext, PassSpec, restore_interface

# onnxoptimizer 0.4.2 passes, in order: drop no-ops first so the fusions see adjacent pairs.
# BatchNormalization is folded by this module instead (see _fold_one_batchnorm).
OPTIMIZER_PASSES = (
    "eliminate_deadend",  # nodes whose outputs nobody reads
    "eliminate_identity",
    "eliminate_nop_dropout",  # Dropout is a no-op at inference
    "eliminate_nop_cast",
    "eliminate_nop_flatten",
    "eliminate_nop_pad",  # all-zero pads (a PyTorch 1.5 export carries one)
    "eliminate_nop_reshape",
    "eliminate_nop_transpose",
    "fuse_consecutive_transposes",
    "fuse_consecutive_squeezes",
    "fuse_consecutive_unsqueezes",
    "fuse_transpose_into_gemm",
    "fuse_pad_into_conv",
    "fuse_pad_into_pool",
    "fuse_add_bias_into_conv",
    "fuse_matmul_add_bias_into_gemm",  # only where the MatMul input is known to be 2-D
    "eliminate_deadend",  # again: a fusion can leave its first node unread (mnist-8's MatMul)
    "eliminate_unused_initializer",
    "eliminate_duplicate_initializer",
)
STANDARD_DOMAINS = ("", "ai.onnx")


@dataclass(frozen=True)
class FuseConfig:
    """Whether to follow onnxoptimizer's fixed pass list with onnxruntime's basic-level optimizations."""

    onnxruntime_basic: bool = param(True, "then onnxruntime's basic-level optimizations: constant folding and "
                                          "Conv/Gemm fusions onnxoptimizer lacks")

    def __post_init__(self):
        if not isinstance(self.onnxruntime_basic, bool):
            raise ValueError(f"onnxruntime_basic must be true or false, not {self.onnxruntime_basic!r}")


def run(model: onnx.ModelProto, cfg: FuseConfig, ctx: PassContext) -> onnx.ModelProto:
    """A fused copy of `model` with the same inputs, outputs and metadata."""
    import onnxoptimizer

    name = describe(model)
    try:
        fused = onnxoptimizer.optimize(without_initializer_inputs(model), list(OPTIMIZER_PASSES), fixed_point=True)
    except Exception as exc:  # onnxoptimizer raises RuntimeError/IndexError from its C++ core
        raise PassError(f"onnxoptimizer failed on {name}: {reason(exc)}") from exc
    _fold_batchnorms(fused)
    if cfg.onnxruntime_basic:
        optimized = _onnxruntime_basic(fused, name)
        added = _added_domains(fused, optimized)
        if added:  # onnxruntime-web might not run them: keep the portable onnxoptimizer result
            ctx.notes.append(f"fuse: kept the onnxoptimizer result; onnxruntime's basic level added "
                             f"{', '.join(added)} operators")
        else:
            fused = optimized
    return restore_interface(fused, model, "fusing", name)


def _onnxruntime_basic(model: onnx.ModelProto, name: str) -> onnx.ModelProto:
    """The graph onnxruntime runs after its ORT_ENABLE_BASIC optimizations, saved offline."""
    import onnxruntime as ort

    with tempfile.TemporaryDirectory(prefix="edgeshrink-fuse-") as tmp:
        target = Path(tmp) / "basic.onnx"
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.optimized_model_filepath = str(target)
        options.log_severity_level = 3
        try:
            ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
            optimized = onnx.load(str(target))
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
            raise PassError(f"onnxruntime's basic optimization failed on {name}: {reason(exc)}") from exc
    return optimized


def _added_domains(before: onnx.ModelProto, after: onnx.ModelProto) -> list[str]:
    """Operator domains `after` uses that neither standard ONNX nor `before` did (com.microsoft...)."""
    known = set(STANDARD_DOMAINS) | {node.domain for node in before.graph.node}
    return sorted({node.domain for node in after.graph.node if node.domain not in known})


def _fold_batchnorms(model: onnx.ModelProto) -> None:
    folded = 0
    while _fold_one_batchnorm(model):
        folded += 1
    if folded:  # drop the BatchNormalization parameters and the old weights
        Graph(model).drop_unread_initializers()


def _fold_one_batchnorm(model: onnx.ModelProto) -> bool:
    """Fold one inference BatchNormalization into the Conv or Gemm before it, or the Gemm after it.

    BatchNorm1d exports by PyTorch 1.x come wrapped in Unsqueeze/Squeeze; those go too. Folding here
    writes new constant weights (onnxoptimizer's fuse_bn_into_conv emits the arithmetic as nodes).
    """
    g = Graph(model)
    graph, init, producer, only_reader = model.graph, g.inits, g.producer, g.sole_reader
    for bn in graph.node:
        if bn.op_type != "BatchNormalization" or len(bn.output) != 1 or not all(i in init for i in bn.input[1:5]):
            continue
        first = last = bn
        before, after = producer.get(bn.input[0]), only_reader(bn.output[0])
        if _drops_added_axis(before, after, init) and only_reader(before.output[0]) is bn:
            first, last = before, after
        previous, following = producer.get(first.input[0]), only_reader(last.output[0])
        if _foldable(following, init, ("Gemm",)) and following.input[0] == last.output[0]:
            _scale_weights(following, graph, init, bn, bn_first=True)
            following.input[0] = first.input[0]
        elif _foldable(previous, init, ("Gemm", "Conv")) and only_reader(previous.output[0]) is first:
            _scale_weights(previous, graph, init, bn, bn_first=False)
            previous.output[0] = last.output[0]
        else:
            continue
        chain = {id(n) for n in (first, bn, last)}
        kept = [n for n in graph.node if id(n) not in chain]
        del graph.node[:]
        graph.node.extend(kept)
        return True
    return False


def _axes(node: onnx.NodeProto, init: dict) -> list[int] | None:
    for attr in node.attribute:
        if attr.name == "axes":
            return list(attr.ints)
    if len(node.input) > 1 and node.input[1] in init:  # opset 13 moved axes to an input
        return numpy_helper.to_array(init[node.input[1]]).tolist()
    return None


def _drops_added_axis(before, after, init: dict) -> bool:
    """Unsqueeze(axes=[2]) -> BatchNormalization -> Squeeze(axes=[2]), as PyTorch 1.x exported BatchNorm1d."""
    return (before is not None and after is not None and before.op_type == "Unsqueeze"
            and after.op_type == "Squeeze" and _axes(before, init) in ([2], [-1])
            and _axes(after, init) in ([2], [-1]))


def _foldable(node, init: dict, op_types: tuple[str, ...]) -> bool:
    """A Conv/Gemm with constant weights and bias (Gemm: not transposing its input)."""
    if node is None or node.op_type not in op_types or node.input[1] not in init:
        return False
    trans_a = any(a.name == "transA" and a.i for a in node.attribute)
    return not trans_a and (len(node.input) < 3 or not node.input[2] or node.input[2] in init)


def _scale_weights(node, graph, init: dict, bn, bn_first: bool) -> None:
    """Rewrite the node's weights so it computes node(BN(x)) (bn_first, Gemm only) or BN(node(x))."""
    gamma, shift, mean, var = (numpy_helper.to_array(init[name]).astype(np.float64) for name in bn.input[1:5])
    scale = gamma / np.sqrt(var + next((a.f for a in bn.attribute if a.name == "epsilon"), 1e-5))
    offset = shift - mean * scale
    weight = numpy_helper.to_array(init[node.input[1]])
    has_bias = len(node.input) > 2 and node.input[2]
    bias = numpy_helper.to_array(init[node.input[2]]).astype(np.float64) if has_bias else np.zeros(1)
    attrs = attributes(node)
    if node.op_type == "Conv":  # output channels on axis 0 of the kernel
        w = weight * scale.reshape(-1, *[1] * (weight.ndim - 1))
        bias = bias * scale + offset
    else:
        alpha, beta, trans_b = attrs.get("alpha", 1.0), attrs.get("beta", 1.0), attrs.get("transB", 0)
        b = (weight.T if trans_b else weight).astype(np.float64)  # (K, N)
        if bn_first:  # Gemm(x * scale + offset): scale the weight rows, move the offset into C
            b, bias = b * scale[:, None], alpha * (offset @ b) + beta * bias
        else:  # Gemm(x) * scale + offset: scale the weight columns and C
            b, bias = b * scale[None, :], beta * bias * scale + offset
        w = b.T if trans_b else b
        kept = [a for a in node.attribute if a.name != "beta"]
        del node.attribute[:]
        node.attribute.extend(kept + [helper.make_attribute("beta", 1.0)])
    names = (f"{node.input[1]}_bn_folded", f"{node.name or node.output[0]}_bn_folded_bias")
    graph.initializer.extend([numpy_helper.from_array(w.astype(weight.dtype), names[0]),
                              numpy_helper.from_array(bias.astype(weight.dtype), names[1])])
    del node.input[1:]
    node.input.extend(names)


SPEC = PassSpec(
    name="fuse",
    config=FuseConfig,
    run=run,
    summary="fold BatchNorm, biases and no-op nodes into their neighbours (onnxoptimizer, onnxruntime basic)",
    float_only=True,  # its constant folding and BatchNorm folding work on float weights
    tried_on_int8=True,  # dead-code removal and QDQ-keeping clean-ups still help an int8 model
    reweights=True,  # BatchNorm folding scales each channel's weights
)
