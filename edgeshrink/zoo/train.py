"""Train a reference architecture on the MNIST training images, seeded and deterministic.

Only the training split is used; its last `val_size` images pick the best epoch. The test set is
never touched here: measuring accuracy on it is the caller's job, after training.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

import numpy as np

from edgeshrink import data
from edgeshrink.core.signature import PRESETS
from edgeshrink.data import Split
from edgeshrink.data.augment import random_affine, to_unit
from edgeshrink.errors import EdgeshrinkError
from edgeshrink.progress import Advance, Track, no_progress
from edgeshrink.zoo import registry
from edgeshrink.zoo.config import TrainConfig

if TYPE_CHECKING:
    import torch
    from torch import nn

_PREPROCESS = PRESETS["mnist"]


@dataclass(frozen=True)
class Epoch:
    """What one epoch did: mean training loss, validation accuracy (None without a validation split)."""

    index: int
    steps: int
    train_loss: float
    val_accuracy: float | None
    seconds: float


@dataclass(frozen=True)
class TrainResult:
    """A trained network (in eval mode, weights of the best validation epoch) and how it got there."""

    arch: str
    params: int
    val_accuracy: float | None
    epochs_run: int
    best_epoch: int
    seconds: float
    module: "nn.Module"
    config: TrainConfig
    history: tuple[Epoch, ...]


def train(arch: str, cfg: TrainConfig | None = None, data_dir: str | os.PathLike | None = None,
          track: Track = no_progress, split: Split | None = None) -> TrainResult:
    """Train `arch` (NAME or NAME@W) with `cfg` (NAME's defaults if None) on MNIST train, or on `split` if given."""
    arch = registry.canonical(arch)
    cfg = cfg if cfg is not None else registry.default_config(arch)
    fit, val = _carve(split if split is not None else data.load("train", data_dir), cfg.val_size)
    start = time.perf_counter()
    with _torch_settings(cfg) as generator:
        module = registry.build(arch)
        history, best = _fit(module, arch, cfg, fit, val, generator, track)
    module.eval()
    best_epoch = best.index if best else history[-1].index
    return TrainResult(
        arch=arch, params=sum(p.numel() for p in module.parameters()),
        val_accuracy=best.val_accuracy if best else None, epochs_run=len(history),
        best_epoch=best_epoch, seconds=time.perf_counter() - start,
        module=module, config=cfg, history=tuple(history),
    )


def accuracy(module: "nn.Module", split: Split, batch_size: int = 1000) -> float:
    """Fraction of `split` that `module` classifies correctly (evaluated in eval mode)."""
    import torch

    module.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(split), batch_size):
            x = normalize(to_unit(split.images[start:start + batch_size]))
            labels = torch.from_numpy(split.labels[start:start + batch_size].astype(np.int64))
            correct += int((module(x).argmax(dim=1) == labels).sum())
    return correct / max(len(split), 1)


def normalize(x01: "torch.Tensor") -> "torch.Tensor":
    """Apply the MNIST mean/std the exported signature records (PRESETS['mnist'])."""
    return (x01 - _PREPROCESS.mean) / _PREPROCESS.std


def _carve(split: Split, val_size: int) -> tuple[Split, Split]:
    if val_size >= len(split):
        raise EdgeshrinkError(
            f"val_size {val_size} leaves no training images out of {len(split)}; use a smaller val_size"
        )
    cut = len(split) - val_size
    return split.take(cut), split.take(val_size, start=cut)


@contextlib.contextmanager
def _torch_settings(cfg: TrainConfig) -> Iterator["torch.Generator"]:
    """Seed everything and make kernels deterministic, restoring torch's global state afterwards."""
    import torch
    import torch.utils.deterministic

    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    fill = torch.utils.deterministic.fill_uninitialized_memory
    try:
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.utils.deterministic.fill_uninitialized_memory = False  # NaN-filling every buffer costs ~20%
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed)
            yield torch.Generator().manual_seed(cfg.seed)
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)
        torch.utils.deterministic.fill_uninitialized_memory = fill


def _fit(module: "nn.Module", arch: str, cfg: TrainConfig, fit: Split, val: Split,
         generator: "torch.Generator", track: Track) -> tuple[list[Epoch], Epoch | None]:
    """Run the epochs; leave `module` holding the weights of the best validation epoch."""
    steps_per_epoch = -(-len(fit) // cfg.batch_size)
    total = min(cfg.epochs * steps_per_epoch, cfg.max_steps or cfg.epochs * steps_per_epoch)
    optimizer = _optimizer(module, cfg)
    step = _Stepper(module, optimizer, _schedule(optimizer, total), cfg, generator)
    history: list[Epoch] = []
    best, best_state = None, None
    for index in range(1, cfg.epochs + 1):
        count = min(steps_per_epoch, total - step.done)
        if count <= 0:
            break
        with track(f"train {arch} epoch {index}/{cfg.epochs}", count) as advance:
            epoch = _epoch(index, step, fit, count, val, advance)
        history.append(epoch)
        if epoch.val_accuracy is not None and (best is None or epoch.val_accuracy > best.val_accuracy):
            best, best_state = epoch, {k: v.clone() for k, v in module.state_dict().items()}
    if best_state is not None:
        module.load_state_dict(best_state)
    return history, best


def _epoch(index: int, step: "_Stepper", fit: Split, count: int, val: Split, advance: Advance) -> Epoch:
    import torch

    start = time.perf_counter()
    order = torch.randperm(len(fit), generator=step.generator).numpy()
    size = step.cfg.batch_size
    losses = []
    for k in range(count):
        rows = np.sort(order[k * size:(k + 1) * size])
        losses.append(step(fit.images[rows], fit.labels[rows]))
        advance(1)
    val_acc = accuracy(step.module, val) if len(val) else None
    return Epoch(index, count, float(np.mean(losses)), val_acc, time.perf_counter() - start)


class _Stepper:
    """One optimizer step on a batch of raw pixels: augment, normalize, forward, backward, update."""

    def __init__(self, module, optimizer, schedule, cfg: TrainConfig, generator):
        self.module, self.optimizer, self.schedule = module, optimizer, schedule
        self.cfg, self.generator, self.done = cfg, generator, 0

    def __call__(self, images: np.ndarray, labels: np.ndarray) -> float:
        import torch
        import torch.nn.functional as F

        self.module.train()
        x = to_unit(images)
        if self.cfg.augment:
            x = random_affine(x, self.generator)
        target = torch.from_numpy(labels.astype(np.int64))
        loss = F.cross_entropy(self.module(normalize(x)), target, label_smoothing=self.cfg.label_smoothing)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.schedule.step()
        self.done += 1
        return float(loss.detach())


def _optimizer(module: "nn.Module", cfg: TrainConfig) -> "torch.optim.Optimizer":
    """Weight decay on weight matrices and kernels only, never on biases or BatchNorm scales."""
    import torch

    decay = [p for p in module.parameters() if p.ndim > 1]
    other = [p for p in module.parameters() if p.ndim <= 1]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": other, "weight_decay": 0.0}]
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=cfg.lr, momentum=0.9, nesterov=True)
    return torch.optim.AdamW(groups, lr=cfg.lr)


def _schedule(optimizer: "torch.optim.Optimizer", total_steps: int) -> "torch.optim.lr_scheduler.LRScheduler":
    """One cycle: warm up linearly from lr/25 over the first quarter, then cosine down to nearly 0.

    Written as a LambdaLR because torch's OneCycleLR divides by zero for runs of under 5 steps.
    """
    import torch

    warm = max(1, total_steps // 4)

    def factor(step: int) -> float:
        if step < warm:
            return 0.04 + 0.96 * step / warm
        progress = min(1.0, (step - warm) / max(1, total_steps - warm))
        return 1e-3 + (1 - 1e-3) * 0.5 * (1 + math.cos(math.pi * progress))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
