"""Cluster: trained weight sharing. Each weight layer keeps at most 2^bits distinct non-zero values.

Per layer (or per output channel) the non-zero weights are k-means clustered; then the shared values
(centroids) are fine-tuned on the training images, the gradient of every weight summed into its
centroid, so the layer stays shared while it recovers (Deep Compression, Han et al. 2016, 3.2).
Zeros from pruning are no cluster: they stay exactly zero.

The model keeps plain float weights: a tensor of 16 distinct values is what gzip and brotli
entropy-code well, and every runtime runs it unchanged. Each layer's shared values are finally
snapped to an int8 grid (multiples of max|w| / 127, `passes/int8grid.py`), so `quantize` afterwards maps each shared value
to one int8 code, with no rounding (see `passes/quantize/surgery.shared_grid_overrides`; with the quantize
option `reduce_range` the codes are rounded to a grid half as fine).

`bits: auto` chooses the bits per layer within the run's budget (`passes/cluster/auto.py`). `equalize: true`
first rescales channels across ReLU so one per-layer codebook serves every channel (`passes/cluster/equalize.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import onnx
from onnx import numpy_helper

from edgeshrink.core.model import clone, is_quantized
from edgeshrink.errors import PassError
from edgeshrink.finetune.config import FineTune
from edgeshrink.params import param
from edgeshrink.passes.base import PassContext, PassSpec
from edgeshrink.passes.cluster import kmeans
from edgeshrink.passes.int8grid import to_grid, weight_axes, widest_step

MIN_BITS, MAX_BITS = 2, 8


@dataclass(frozen=True)
class ClusterConfig:
    """How many shared values per layer and how to recover: at most 2^bits values per layer (per output
    channel with `per_channel`), the zero of a pruned layer included."""

    bits: int | Literal["auto"] = param(
        4, f"at most 2^bits shared values per layer, {MIN_BITS} to {MAX_BITS} (zero included); auto: per layer, "
           "the fewest from max_bits down to min_bits within the run's budget", search=(2, 3, 4, 5, 6))
    per_channel: bool = param(False, "one codebook per output channel: more accuracy, more values to code")
    one_grid: bool = param(False, "snap every layer's shared values to one int8 grid (the widest layer's max|w| / "
                                  "127) instead of each layer's own, so quantize stores one scale for them all; for "
                                  "layers of like ranges, as equalize leaves them")
    equalize: bool = param(False, "first rescale each channel between a Conv and the Conv that reads it through "
                                  "ReLU or pooling (the same function) so every layer's channels span like ranges "
                                  "(passes/cluster/equalize.py): one codebook then serves every channel")
    # the shared values train more gently than pruned weights, and match the unclustered model's scores
    finetune: FineTune = param(FineTune(lr=2e-4, distill=True), "the training of the shared values (its "
                               "parameters are the step's)")
    max_bits: int = param(5, "auto: the bits every layer starts at")
    min_bits: int = param(2, "auto: the fewest bits a layer is tried at")
    trials: int = param(8, "auto: one layer one bit lower per trial (the largest layer first), fine-tuned and "
                           "judged on held-out training images; at most this many besides the start at max_bits")
    budget_share: float = param(1.0, "auto: the share of the run's accuracy budget this step may spend")

    def __post_init__(self):
        if self.bits != "auto" and not (isinstance(self.bits, int) and MIN_BITS <= self.bits <= MAX_BITS):
            raise ValueError(f"bits must be between {MIN_BITS} and {MAX_BITS} or auto, not {self.bits!r}")
        if self.one_grid and self.per_channel:
            raise ValueError("one_grid puts every layer on one grid; it cannot be combined with per_channel")
        if not isinstance(self.equalize, bool):
            raise ValueError(f"equalize must be true or false, not {self.equalize!r}")
        checks = [
            ("max_bits", MIN_BITS <= self.max_bits <= MAX_BITS, f"between {MIN_BITS} and {MAX_BITS}"),
            ("min_bits", MIN_BITS <= self.min_bits <= self.max_bits, f"between {MIN_BITS} and max_bits"),
            ("trials", self.trials >= 0, "0 or more"),
            ("budget_share", 0 < self.budget_share <= 1, "above 0 and at most 1"),
        ]
        for name, ok, rule in checks:
            if not ok:
                raise ValueError(f"{name} must be {rule}, not {getattr(self, name)}")


def codebooks(model: onnx.ModelProto, bits: dict[str, int | None], per_channel: bool) -> dict[str, kmeans.Codebook]:
    """Codebooks of the weight layers `bits` names: k-means to at most 2^bits values, or with None the layer's
    own distinct values (a layer shared already, kept as it is)."""
    inits = {init.name: init for init in model.graph.initializer}
    books = {}
    for name, axis in weight_axes(model).items():
        if name not in bits:
            continue
        w = numpy_helper.to_array(inits[name])
        # a pruned layer's zero takes one of the codes
        k = None if bits[name] is None else 2 ** bits[name] - (1 if (w == 0).any() else 0)
        books[name] = kmeans.share(w, k, axis if per_channel else None)
    return books


def snap(book: kmeans.Codebook, weights: np.ndarray, axis: int | None, step: np.float32 | None = None) -> np.ndarray:
    """Each cluster's value: the mean of its (trained, equal) members, on the int8 grid of its slice (or of
    `step`, one grid for every layer)."""
    sums = np.bincount(book.index[book.index >= 0], weights=weights[book.index >= 0], minlength=len(book.centroids))
    counts = np.bincount(book.index[book.index >= 0], minlength=len(book.centroids))
    centroids = np.where(counts > 0, sums / np.maximum(counts, 1), book.centroids)
    out = kmeans.Codebook(centroids.astype(np.float32), book.index).weights()
    slices = [out] if axis is None else [np.take(out, c, axis) for c in range(out.shape[axis])]
    snapped = [to_grid(s, step) for s in slices]
    return snapped[0] if axis is None else np.stack(snapped, axis)


def run(model: onnx.ModelProto, cfg: ClusterConfig, ctx: PassContext) -> onnx.ModelProto:
    """A copy of `model` whose weight layers each hold at most 2^bits distinct non-zero values."""
    if is_quantized(model):
        raise PassError("cannot cluster a quantized model; put cluster before quantize")
    if not weight_axes(model):
        raise PassError("cannot cluster this model: it has no Conv, Gemm or MatMul layer with float weights; "
                        "use a recipe without cluster such as 'fast'")
    teacher = model if cfg.finetune.distill else None
    if cfg.equalize:
        from edgeshrink.passes.cluster.equalize import equalize

        model, count = equalize(clone(model))
        ctx.notes.append(f"cluster: equalized the channels of {count} pairs of Conv layers" if count else
                         "cluster: equalize found no Conv read by another Conv through ReLU or pooling alone")
    if cfg.bits == "auto":
        from edgeshrink.passes.cluster import auto

        return auto.run(model, cfg, ctx, teacher)
    return shared(model, dict.fromkeys(weight_axes(model), cfg.bits), cfg, ctx, teacher)


def shared(model: onnx.ModelProto, bits: dict[str, int | None], cfg: ClusterConfig, ctx: PassContext,
           teacher: onnx.ModelProto | None, label: str = "fine-tune shared values") -> onnx.ModelProto:
    """A copy of `model` whose layers `bits` names are shared (see `codebooks`), fine-tuned and snapped."""
    books = codebooks(model, bits, cfg.per_channel)
    work = clone(model)
    for init in work.graph.initializer:
        if init.name in books:
            init.CopyFrom(numpy_helper.from_array(books[init.name].weights(), init.name))
    if cfg.finetune.epochs > 0:
        from edgeshrink.finetune import train as finetune

        tied = {name: book.index for name, book in books.items()}
        work = finetune.finetune(work, cfg.finetune, ctx, label, tied=tied, teacher=teacher)
    axes = weight_axes(work)
    trained = {init.name: numpy_helper.to_array(init) for init in work.graph.initializer if init.name in books}
    step = widest_step(list(trained.values())) if cfg.one_grid else None  # the widest layer's grid, for every layer
    for init in work.graph.initializer:
        if init.name in books:
            axis = axes[init.name] if cfg.per_channel else None
            init.CopyFrom(numpy_helper.from_array(snap(books[init.name], trained[init.name], axis, step), init.name))
    return work


SPEC = PassSpec(
    name="cluster",
    config=ClusterConfig,
    run=run,
    summary="trained weight sharing: at most 2^bits shared values per layer (k-means, centroids fine-tuned)",
    float_only=True,  # k-means and fine-tuning need float weights
    shares=True,
    reweights=True,
)
