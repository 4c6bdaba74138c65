"""Prune: remove weights by magnitude, or whole channels and neurons, then fine-tune on MNIST.

Works on the ONNX graph itself, so models edgeshrink did not make prune too. `unstructured` zeroes
the smallest weights of Conv, Gemm and MatMul layers (the file only shrinks once compressed);
`structured` cuts channels out of the graph (smaller tensors, fewer operations). The output layer
is never pruned. With `rounds` > 1 the sparsity is reached step by step, fine-tuning after each.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

import numpy as np
import onnx

from edgeshrink.core.model import clone, describe, is_quantized
from edgeshrink.errors import PassError
from edgeshrink.passes.base import PassContext, PassSpec
from edgeshrink.passes.prune.config import PruneConfig, kept_share

_FALLBACK = "use a recipe without prune such as 'fast'"

# prunes a model to a share of what the input model had; returns it and the masks that must stay applied
Round = Callable[[onnx.ModelProto, float], tuple[onnx.ModelProto, "dict[str, np.ndarray] | None"]]


class NothingToPrune(PassError):
    """No layer of the model can lose channels: an error for a fixed sparsity, sparsity 0 for `auto`."""


def _note(ctx: PassContext, lines: list[str]) -> None:
    for line in lines:
        if line not in ctx.notes:
            ctx.notes.append(line)


def _structured(model: onnx.ModelProto, cfg: PruneConfig, ctx: PassContext) -> Round:
    """One structured round: every prunable layer keeps `share` of its original channels."""
    from edgeshrink.passes.prune import structured

    class_output = ctx.signature.output_name
    original = structured.counts(model, class_output)

    def prune_round(work: onnx.ModelProto, share: float) -> tuple[onnx.ModelProto, None]:
        targets = {layer: max(1, round(size * share)) for layer, size in original.items()}
        surgery = structured.prune(work, targets, class_output, cfg.norm)
        _note(ctx, [f"prune: kept {reason}" for reason in surgery.blocked])
        if work is model and not surgery.pruned and not surgery.untouched:
            reasons = "; ".join(surgery.blocked) or "only the output layer has weights"
            raise NothingToPrune(f"cannot prune {describe(model)}: no layer can lose channels ({reasons})")
        if work is model and not surgery.pruned:
            _note(ctx, [f"prune: sparsity {cfg.sparsity} removes no whole channel from any layer"])
        return surgery.model, None

    return prune_round


def _unstructured(model: onnx.ModelProto, cfg: PruneConfig, ctx: PassContext) -> Round:
    """One unstructured round: the smallest weights are zeroed until `1 - share` of them are zero."""
    from edgeshrink.passes.prune import unstructured

    names = unstructured.prunable(model, ctx.signature.output_name)
    if not names:
        raise PassError(f"cannot prune {describe(model)}: it has no weight layer besides the output layer; "
                        f"{_FALLBACK}")

    def prune_round(work: onnx.ModelProto, share: float) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
        keep = unstructured.masks(work, names, 1 - share, cfg.scope)
        return unstructured.apply(work, keep), keep

    return prune_round


def run(model: onnx.ModelProto, cfg: PruneConfig, ctx: PassContext) -> onnx.ModelProto:
    """A pruned (and fine-tuned) copy of `model` with the same inputs, outputs and metadata."""
    if is_quantized(model):
        raise PassError("cannot prune a quantized model; put prune before quantize")
    from edgeshrink.finetune import train as finetune

    if not ctx.signature.output_name:  # the class output named by position only
        named = replace(ctx.signature, output_name=model.graph.output[ctx.signature.output_index].name)
        ctx = replace(ctx, signature=named)  # notes stay the caller's list
    prune_round = (_structured if cfg.method == "structured" else _unstructured)(model, cfg, ctx)
    teacher = model if cfg.finetune.distill else None
    try:
        if cfg.sparsity == "auto":
            return _auto(model, cfg, ctx, prune_round, teacher)
        work = model
        for done in range(1, cfg.rounds + 1):
            work, keep = prune_round(work, kept_share(cfg.sparsity, done, cfg.rounds))
            if cfg.finetune.epochs > 0:
                label = "fine-tune" if cfg.rounds == 1 else f"fine-tune {done}/{cfg.rounds}"
                work = finetune.finetune(work, cfg.finetune, ctx, label, keep, teacher)
    except NothingToPrune as exc:
        if cfg.sparsity != "auto":
            raise PassError(f"{exc}; {_FALLBACK}") from None
        ctx.notes.append(f"prune auto: {exc}; the model is left unpruned")
        return clone(model)
    return clone(work) if work is model else work


def _auto(model: onnx.ModelProto, cfg: PruneConfig, ctx: PassContext, prune_round: Round,
          teacher: onnx.ModelProto | None) -> onnx.ModelProto:
    """The largest sparsity within budget (see auto.py); fine-tuning trains on images the search never judges on."""
    from edgeshrink.finetune import train as finetune
    from edgeshrink.passes import heldout
    from edgeshrink.passes.prune import auto

    fit, validation = heldout.validation_split(ctx, "sparsity auto")
    train_ctx = replace(ctx, train=fit)

    def trial(start: onnx.ModelProto, share: float) -> onnx.ModelProto:
        pruned, keep = prune_round(start, share)
        if cfg.finetune.epochs == 0:
            return pruned
        return finetune.finetune(pruned, cfg.finetune, train_ctx, f"fine-tune sparsity {1 - share:.3f}", keep, teacher)

    best, _, _ = auto.search(model, trial, ctx, validation, cfg.max_sparsity, cfg.trials, cfg.budget_share,
                             cfg.stride)
    return clone(best) if best is model else best


SPEC = PassSpec(
    name="prune",
    config=PruneConfig,
    run=run,
    summary="remove small weights or whole channels from the ONNX graph, then fine-tune on MNIST",
    float_only=True,  # pruning and fine-tuning need float weights
    reweights=True,  # fine-tuning moves every weight
)
