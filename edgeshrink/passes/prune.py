"""Prune: remove weights by magnitude, or whole channels and neurons, then fine-tune on MNIST.

Works on the ONNX graph itself, so models edgeshrink did not make prune too. `unstructured` zeroes
the smallest weights of Conv, Gemm and MatMul layers (the file only shrinks once compressed);
`structured` cuts channels out of the graph (smaller tensors, fewer operations). The output layer
is never pruned. With `rounds` > 1 the sparsity is reached step by step, fine-tuning after each.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Literal

import numpy as np
import onnx

from edgeshrink.errors import PassError
from edgeshrink.model import clone, is_quantized
from edgeshrink.passes.base import PassContext, PassSpec

MAX_SPARSITY = 0.99
_FALLBACK = "use a recipe without prune such as 'fast'"
# prunes a model to a share of what the input model had; returns it and the masks that must stay applied
Round = Callable[[onnx.ModelProto, float], tuple[onnx.ModelProto, "dict[str, np.ndarray] | None"]]


@dataclass(frozen=True)
class PruneConfig:
    """What to remove and how to recover: `sparsity` is the share of weights (unstructured) or of each
    layer's channels (structured) taken away, `finetune_*` the training after each round."""

    method: Literal["unstructured", "structured"] = "structured"
    sparsity: float = 0.5
    scope: Literal["layer", "global"] = "layer"  # unstructured: one threshold per layer or for all
    norm: Literal["l1", "l2"] = "l1"  # structured: how a channel's weights are ranked
    rounds: int = 1  # prune-then-fine-tune cycles reaching `sparsity` geometrically
    finetune_epochs: float = 1.0  # per round, in passes over the training images; 0: no fine-tuning
    lr: float = 1e-3  # Adam
    batch_size: int = 64
    distill: bool = False  # also match the unpruned model's softened scores
    temperature: float = 4.0
    alpha: float = 0.5  # distillation's share of the loss
    finetune_images: int | None = None  # train on the first N training images only (None: all)
    threads: int = 1  # torch threads while fine-tuning (0: torch's default); see prune_finetune

    def __post_init__(self):
        if not 0 <= self.sparsity <= MAX_SPARSITY:
            raise ValueError(f"sparsity must be between 0 and {MAX_SPARSITY}, not {self.sparsity}")
        if self.method == "structured" and self.scope == "global":
            raise ValueError("scope global applies to unstructured pruning only; structured pruning "
                             "removes the same share of channels from every layer")
        checks = [
            ("rounds", self.rounds >= 1, "at least 1"),
            ("finetune_epochs", self.finetune_epochs >= 0, "0 or more"),
            ("lr", self.lr > 0, "greater than 0"),
            ("batch_size", self.batch_size >= 1, "at least 1"),
            ("temperature", self.temperature > 0, "greater than 0"),
            ("alpha", 0 <= self.alpha <= 1, "between 0 and 1"),
            ("finetune_images", self.finetune_images is None or self.finetune_images >= 1, "at least 1"),
            ("threads", self.threads >= 0, "0 or more"),
        ]
        for name, ok, rule in checks:
            if not ok:
                raise ValueError(f"{name} must be {rule}, not {getattr(self, name)}")


def kept_share(sparsity: float, done: int, rounds: int) -> float:
    """The share of weights or channels left after `done` of `rounds` rounds (a geometric schedule)."""
    return (1 - sparsity) ** (done / rounds)


def _describe(model: onnx.ModelProto) -> str:
    return f"model {model.graph.name!r}" if model.graph.name else "this model"


def _note(ctx: PassContext, lines: list[str]) -> None:
    for line in lines:
        if line not in ctx.notes:
            ctx.notes.append(line)


def _structured(model: onnx.ModelProto, cfg: PruneConfig, ctx: PassContext) -> Round:
    """One structured round: every prunable layer keeps `share` of its original channels."""
    from edgeshrink.passes import prune_structured

    class_output = ctx.signature.output_name
    original = prune_structured.counts(model, class_output)

    def prune_round(work: onnx.ModelProto, share: float) -> tuple[onnx.ModelProto, None]:
        targets = {layer: max(1, round(size * share)) for layer, size in original.items()}
        surgery = prune_structured.prune(work, targets, class_output, cfg.norm)
        _note(ctx, [f"prune: kept {reason}" for reason in surgery.blocked])
        if work is model and not surgery.pruned and not surgery.untouched:
            reasons = "; ".join(surgery.blocked) or "only the output layer has weights"
            raise PassError(f"cannot prune {_describe(model)}: no layer can lose channels ({reasons}); {_FALLBACK}")
        if work is model and not surgery.pruned:
            _note(ctx, [f"prune: sparsity {cfg.sparsity} removes no whole channel from any layer"])
        return surgery.model, None

    return prune_round


def _unstructured(model: onnx.ModelProto, cfg: PruneConfig, ctx: PassContext) -> Round:
    """One unstructured round: the smallest weights are zeroed until `1 - share` of them are zero."""
    from edgeshrink.passes import prune_unstructured

    names = prune_unstructured.prunable(model, ctx.signature.output_name)
    if not names:
        raise PassError(f"cannot prune {_describe(model)}: it has no weight layer besides the output layer; "
                        f"{_FALLBACK}")

    def prune_round(work: onnx.ModelProto, share: float) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
        keep = prune_unstructured.masks(work, names, 1 - share, cfg.scope)
        return prune_unstructured.apply(work, keep), keep

    return prune_round


def run(model: onnx.ModelProto, cfg: PruneConfig, ctx: PassContext) -> onnx.ModelProto:
    """A pruned (and fine-tuned) copy of `model` with the same inputs, outputs and metadata."""
    if is_quantized(model):
        raise PassError("cannot prune a quantized model; put prune before quantize")
    from edgeshrink.passes import prune_finetune

    if not ctx.signature.output_name:  # the class output named by position only
        named = replace(ctx.signature, output_name=model.graph.output[ctx.signature.output_index].name)
        ctx = replace(ctx, signature=named)  # notes stay the caller's list
    prune_round = (_structured if cfg.method == "structured" else _unstructured)(model, cfg, ctx)
    teacher = model if cfg.distill else None
    work = model
    for done in range(1, cfg.rounds + 1):
        work, keep = prune_round(work, kept_share(cfg.sparsity, done, cfg.rounds))
        if cfg.finetune_epochs > 0:
            label = "fine-tune" if cfg.rounds == 1 else f"fine-tune {done}/{cfg.rounds}"
            work = prune_finetune.finetune(work, cfg, ctx, label, keep, teacher)
    return clone(work) if work is model else work


SPEC = PassSpec(
    name="prune",
    config=PruneConfig,
    run=run,
    summary="remove small weights or whole channels from the ONNX graph, then fine-tune on MNIST",
)
