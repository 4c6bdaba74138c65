"""Cluster: trained weight sharing. Each weight layer keeps at most 2^bits distinct non-zero values.

Per layer (or per output channel) the non-zero weights are k-means clustered; then the shared values
(centroids) are fine-tuned on the training images, the gradient of every weight summed into its
centroid, so the layer stays shared while it recovers (Deep Compression, Han et al. 2016, 3.2).
Zeros from pruning are no cluster: they stay exactly zero.

The model keeps plain float weights: a tensor of 16 distinct values is what gzip and brotli
entropy-code well, and every runtime runs it unchanged. Each layer's shared values are finally
snapped to an int8 grid (multiples of max|w| / 127), so `quantize` afterwards maps each shared value
to one int8 code, with no rounding (see `passes/quantize/surgery.shared_grid_overrides`; with the quantize
option `reduce_range` the codes are rounded to a grid half as fine).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx
from onnx import numpy_helper

from edgeshrink.errors import PassError
from edgeshrink.graph import Graph, attributes
from edgeshrink.model import clone, is_quantized
from edgeshrink.passes.base import PassContext, PassSpec, param
from edgeshrink.passes.cluster import kmeans

MIN_BITS, MAX_BITS = 2, 8
INT8_LEVELS = 127  # symmetric int8: codes -127..127
_OUTPUT_AXIS = {"Conv": 0, "Gemm": None, "MatMul": 1}  # the output-channel axis of the weight (Gemm: transB)


@dataclass(frozen=True)
class ClusterConfig:
    """How many shared values per layer and how to recover: at most 2^bits values per layer (per output
    channel with `per_channel`), the zero of a pruned layer included."""

    bits: int = param(4, f"at most 2^bits shared values per layer, {MIN_BITS} to {MAX_BITS} (zero included)")
    per_channel: bool = param(False, "one codebook per output channel: more accuracy, more values to code")
    finetune_epochs: float = param(1.0, "training of the shared values, in passes over the training images")
    lr: float = param(2e-4, "Adam learning rate of the shared values")
    batch_size: int = param(64, "training images per fine-tuning step")
    augment: bool = param(False, "fine-tune on training images slightly rotated, scaled and shifted")
    distill: bool = param(True, "also match the unclustered model's softened scores")
    temperature: float = param(4.0, "distillation: how much the scores are softened")
    alpha: float = param(0.5, "distillation's share of the loss")
    finetune_images: int | None = param(None, "fine-tune on the first N training images only (null: all)")
    threads: int = param(1, "torch threads while fine-tuning (0: torch's default)")

    def __post_init__(self):
        checks = [
            ("bits", MIN_BITS <= self.bits <= MAX_BITS, f"between {MIN_BITS} and {MAX_BITS}"),
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


def weight_axes(model: onnx.ModelProto) -> dict[str, int]:
    """Float initializers that are the weight (input 1) of a Conv, Gemm or MatMul -> output-channel axis."""
    g = Graph(model)
    found: dict[str, int] = {}
    for node in g.weight_layers():
        init = g.inits.get(node.input[1])  # a weight behind a Transpose or Reshape stays as it is
        if init is None or init.data_type != onnx.TensorProto.FLOAT or len(init.dims) < 2:
            continue
        axis = _OUTPUT_AXIS[node.op_type]
        if axis is None:
            axis = 0 if attributes(node).get("transB", 0) else 1
        found[init.name] = axis
    return found


def codebooks(model: onnx.ModelProto, cfg: ClusterConfig) -> dict[str, kmeans.Codebook]:
    """Initial k-means codebooks of every weight layer."""
    inits = {init.name: init for init in model.graph.initializer}
    books = {}
    for name, axis in weight_axes(model).items():
        w = numpy_helper.to_array(inits[name])
        k = 2 ** cfg.bits - (1 if (w == 0).any() else 0)  # a pruned layer's zero takes one of the codes
        books[name] = kmeans.share(w, k, axis if cfg.per_channel else None)
    return books


def snap(book: kmeans.Codebook, weights: np.ndarray, axis: int | None) -> np.ndarray:
    """Each cluster's value: the mean of its (trained, equal) members, on the int8 grid of its slice."""
    sums = np.bincount(book.index[book.index >= 0], weights=weights[book.index >= 0], minlength=len(book.centroids))
    counts = np.bincount(book.index[book.index >= 0], minlength=len(book.centroids))
    centroids = np.where(counts > 0, sums / np.maximum(counts, 1), book.centroids)
    out = kmeans.Codebook(centroids.astype(np.float32), book.index).weights()
    slices = [out] if axis is None else [np.take(out, c, axis) for c in range(out.shape[axis])]
    snapped = [_to_grid(s) for s in slices]
    return snapped[0] if axis is None else np.stack(snapped, axis)


def on_int8_grid(w: np.ndarray) -> bool:
    """Whether the whole tensor's values are multiples of max|w| / 127, as `snap` leaves them."""
    top = float(np.abs(w).max())
    if top == 0:
        return False
    codes = w / np.float32(top / INT8_LEVELS)
    return bool(np.abs(codes - np.round(codes)).max() < 1e-3)


def _to_grid(values: np.ndarray) -> np.ndarray:
    top = float(np.abs(values).max())
    if top == 0:
        return values.astype(np.float32)
    step = np.float32(top / INT8_LEVELS)
    return (np.round(values / step) * step).astype(np.float32)


def run(model: onnx.ModelProto, cfg: ClusterConfig, ctx: PassContext) -> onnx.ModelProto:
    """A copy of `model` whose weight layers each hold at most 2^bits distinct non-zero values."""
    if is_quantized(model):
        raise PassError("cannot cluster a quantized model; put cluster before quantize")
    books = codebooks(model, cfg)
    if not books:
        raise PassError("cannot cluster this model: it has no Conv, Gemm or MatMul layer with float weights; "
                        "use a recipe without cluster such as 'fast'")
    work = clone(model)
    for init in work.graph.initializer:
        if init.name in books:
            init.CopyFrom(numpy_helper.from_array(books[init.name].weights(), init.name))
    if cfg.finetune_epochs > 0:
        from edgeshrink.finetune import train as finetune

        tied = {name: book.index for name, book in books.items()}
        work = finetune.finetune(work, cfg, ctx, "fine-tune shared values", tied=tied,
                                  teacher=model if cfg.distill else None)
    axes = weight_axes(work)
    for init in work.graph.initializer:
        if init.name in books:
            trained = numpy_helper.to_array(init)
            axis = axes[init.name] if cfg.per_channel else None
            init.CopyFrom(numpy_helper.from_array(snap(books[init.name], trained, axis), init.name))
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
