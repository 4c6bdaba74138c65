"""Fine-tune a pruned or clustered ONNX model on MNIST training images through the ONNX->torch interpreter.

Images go through `signature.feed`, so every layout and normalization trains as it runs. The loss
is cross-entropy on the class scores *before* a final Softmax, LogSoftmax, Sigmoid or ArgMax, with
optional distillation from the unpruned model. Weights zeroed by unstructured pruning stay zero.

Fine-tuning uses one torch thread by default: MNIST-sized batches gain little from more, and on a
shared CPU more threads than free cores stall torch (one epoch of a pruned LeNet: 6 s with one
thread, 96 s with two, on two busy cores).

Any batch trains: a Reshape whose target starts with a batch fixed at export follows the batch fed
(the saved graph keeps its fixed batch), and a model that cannot take a batch at all (one image,
no batch dimension) is mapped over the images with torch.func.vmap.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import replace
from typing import Iterator, Protocol

import numpy as np
import onnx
import torch
import torch.nn.functional as F

from edgeshrink import inference
from edgeshrink.core.graph import FINAL_OPS, Graph
from edgeshrink.core.signature import Signature
from edgeshrink.data import Split
from edgeshrink.data.augment import random_affine_pixels
from edgeshrink.errors import ModelError, PassError
from edgeshrink.finetune.config import FineTune
from edgeshrink.finetune.torchgraph import GraphModule, to_torch, write_back
from edgeshrink.progress import Track

_FIX = "set finetune_epochs: 0, or use a recipe without prune such as 'fast'"


class Context(Protocol):
    """What fine-tuning reads of the pass's context (a passes.PassContext, which stands above this package)."""

    signature: Signature
    train: Split
    seed: int
    track: Track


def score_tensor(model: onnx.ModelProto, signature: Signature) -> str:
    """The tensor to train on: the class output, or what its final Softmax/Sigmoid/ArgMax reads."""
    if signature.output_kind == "logits":
        return signature.output_name
    node = Graph(model).final_node(signature.output_name)
    if node is None or node.op_type not in FINAL_OPS:
        raise PassError(f"cannot fine-tune: no class scores found before the {signature.output_kind} output "
                        f"{signature.output_name!r}; {_FIX}")
    return node.input[0]


class _Runner:
    """A model as a torch function from raw uint8 pixels (n, 28, 28) to (n, 10) class scores.

    A model exported for one image (or a fixed batch) may not run on a batch in torch: then it is
    mapped over single images with torch.func.vmap. Either way the result is first checked against
    onnxruntime, so training never starts from a misread graph.
    """

    def __init__(self, model: onnx.ModelProto, signature: Signature, probe: np.ndarray):
        try:
            self.module: GraphModule = to_torch(model, batch=signature.batch or None)
        except ModelError as exc:
            raise PassError(f"cannot fine-tune: {exc}; {_FIX}") from exc
        self.signature, self.score = signature, score_tensor(model, signature)
        self.per_image = False
        expected = self._native(model, probe)
        for self.per_image in (False, True):
            if self._agrees(probe, expected):
                return
        raise PassError(f"cannot fine-tune: the model does not run on a batch of images in torch; {_FIX}")

    def __call__(self, pixels: np.ndarray) -> torch.Tensor:
        free = replace(self.signature, batch=None)
        x = torch.from_numpy(free.feed(pixels))
        if self.per_image:
            x = x.reshape(len(pixels), *self.signature.input_shape(1))
            scores = torch.func.vmap(lambda one: self.module(one, outputs=[self.score])[0])(x)
        else:
            scores = self.module(x, outputs=[self.score])[0]
        return scores.reshape(len(pixels), -1)

    def _native(self, model: onnx.ModelProto, probe: np.ndarray) -> torch.Tensor:
        """Scores of `probe` run as the model was exported, after checking them against onnxruntime."""
        sig, sess = self.signature, inference.session(model, threads=1)
        step = sig.batch or (1 if sig.batch == 0 else len(probe))
        found = []
        for start in range(0, len(probe), step):
            chunk = probe[start:start + step]
            padded = np.concatenate([chunk, np.repeat(chunk[-1:], step - len(chunk), axis=0)])
            x = sig.feed(padded)
            with torch.no_grad():
                out, scores = self.module(torch.from_numpy(x), outputs=[sig.output_name, self.score])
            reference = inference.run(sess, sig, padded)[sig.output_index]
            if not np.allclose(out.numpy(), reference, rtol=1e-3, atol=1e-3):
                gap = float(np.abs(out.numpy() - reference).max())
                raise PassError(f"cannot fine-tune: the ONNX->torch interpreter disagrees with onnxruntime "
                                f"by {gap:.3g}; {_FIX}")
            found.append(scores.reshape(step, -1)[:len(chunk)])
        return torch.cat(found)

    def _agrees(self, probe: np.ndarray, expected: torch.Tensor) -> bool:
        try:
            with torch.no_grad():
                got = self(probe)
        except (RuntimeError, ValueError, IndexError):  # torch shape errors: no batch that way
            return False
        return got.shape == expected.shape and bool(torch.allclose(got, expected, rtol=1e-3, atol=1e-3))


def _batches(rng: np.random.Generator, n: int, size: int, steps: int) -> Iterator[np.ndarray]:
    """`steps` batches of indices, each epoch a fresh permutation of the n images."""
    order = np.empty(0, dtype=np.int64)
    for _ in range(steps):
        if len(order) < min(size, n):
            order = np.concatenate([order, rng.permutation(n)])
        batch, order = order[:size], order[size:]
        yield batch


def _trainable(module: GraphModule, model: onnx.ModelProto) -> list[torch.nn.Parameter]:
    """Parameters worth training: not batch-norm statistics (a variance must stay positive), not scalars."""
    statistics = {name for node in model.graph.node if node.op_type == "BatchNormalization"
                  for name in node.input[3:5]}
    chosen = []
    for name, param in module.named_weights():
        param.requires_grad_(name not in statistics and param.numel() > 1)
        if param.requires_grad:
            chosen.append(param)
    return chosen


def _loss(student: torch.Tensor, labels: torch.Tensor, teacher: torch.Tensor | None, cfg: FineTune):
    loss = F.cross_entropy(student, labels)
    if teacher is None:
        return loss
    t = cfg.temperature
    soft = F.kl_div(F.log_softmax(student / t, dim=1), F.softmax(teacher / t, dim=1), reduction="batchmean")
    return (1 - cfg.alpha) * loss + cfg.alpha * t * t * soft


@contextlib.contextmanager
def _threads(count: int) -> Iterator[None]:
    before = torch.get_num_threads()
    if count:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def finetune(model: onnx.ModelProto, cfg: FineTune, ctx: Context, label: str = "fine-tune",
             keep: dict[str, np.ndarray] | None = None, teacher: onnx.ModelProto | None = None,
             tied: dict[str, np.ndarray] | None = None) -> onnx.ModelProto:
    """A copy of `model` trained for cfg.epochs on ctx.train; `keep` masks stay applied.

    `tied` maps a weight to a cluster index per element (-1: stays zero): the gradients of a cluster's
    members are summed, so members that start equal move together (Adam's state is per element, and
    equal gradients keep it equal) and the layer keeps its shared values.
    """
    train: Split = ctx.train.take(cfg.images) if cfg.images else ctx.train
    steps = math.ceil(cfg.epochs * len(train) / cfg.batch_size)
    if steps == 0 or len(train) == 0:
        return model
    with _threads(cfg.threads):
        keep = {**(keep or {}), **{name: index >= 0 for name, index in (tied or {}).items()}}
        return _train(model, cfg, ctx, train, steps, label, keep, teacher, tied or {})


def _tie(grad: torch.Tensor, index: torch.Tensor, members: torch.Tensor, clusters: int) -> torch.Tensor:
    """Every member's gradient replaced by the sum over its cluster; zeros get none."""
    flat = grad.reshape(-1)
    sums = torch.zeros(clusters, dtype=grad.dtype).index_add_(0, index[members], flat[members])
    out = torch.zeros_like(flat)
    out[members] = sums[index[members]]
    return out.reshape(grad.shape)


def _train(model: onnx.ModelProto, cfg: FineTune, ctx: Context, train: Split, steps: int, label: str,
           keep: dict[str, np.ndarray] | None, teacher: onnx.ModelProto | None,
           tied: dict[str, np.ndarray]) -> onnx.ModelProto:
    probe = train.images[:3]
    student = _Runner(model, ctx.signature, probe)
    mentor = _Runner(teacher, ctx.signature, probe) if teacher is not None else None
    params = _trainable(student.module, model)
    masks = [(student.module.param(name), torch.from_numpy(mask)) for name, mask in (keep or {}).items()]
    for name, index in tied.items():
        flat = torch.from_numpy(index.reshape(-1).astype(np.int64))
        members = flat >= 0
        clusters = int(flat.max()) + 1 if members.any() else 0
        student.module.param(name).register_hook(
            lambda grad, flat=flat, members=members, clusters=clusters: _tie(grad, flat, members, clusters))
    optimizer = torch.optim.Adam(params, lr=cfg.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)  # settle into the minimum
    rng = np.random.default_rng(ctx.seed)
    generator = torch.Generator().manual_seed(ctx.seed)
    with ctx.track(label, steps) as advance:
        for batch in _batches(rng, len(train), cfg.batch_size, steps):
            pixels, labels = train.images[batch], torch.from_numpy(train.labels[batch].astype(np.int64))
            if cfg.augment:
                pixels = random_affine_pixels(pixels, generator)
            with torch.no_grad():
                taught = mentor(pixels) if mentor is not None else None
            loss = _loss(student(pixels), labels, taught, cfg)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            with torch.no_grad():
                for param, mask in masks:
                    param.mul_(mask)
            advance(1)
    return write_back(model, student.module)
