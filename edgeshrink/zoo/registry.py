"""The explicit registry of reference architectures and the training defaults of each."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from edgeshrink.errors import EdgeshrinkError
from edgeshrink.zoo.config import TrainConfig

if TYPE_CHECKING:
    from torch import nn


@dataclass(frozen=True)
class Arch:
    """A registered architecture: its name, what it is, and how `edgeshrink train` trains it by default."""

    name: str
    summary: str
    defaults: TrainConfig


ARCHS: dict[str, Arch] = {}


def _register(arch: Arch) -> None:
    if arch.name in ARCHS:
        raise ValueError(f"architecture {arch.name!r} registered twice")
    ARCHS[arch.name] = arch


_register(Arch("lenet5", "Caffe LeNet-5 of Deep Compression, 431,080 parameters",
               TrainConfig(epochs=3, batch_size=128, lr=2e-3, weight_decay=1e-4)))
_register(Arch("lenet300", "LeNet-300-100 multilayer perceptron, 266,610 parameters",
               TrainConfig(epochs=8, batch_size=128, lr=2e-3, weight_decay=1e-4)))
_register(Arch("zoo8", "ONNX Model Zoo mnist-8 topology, 5,994 parameters",
               TrainConfig(epochs=8, batch_size=128, lr=5e-3, weight_decay=1e-4)))
_register(Arch("tiny", "depthwise-separable CNN with global average pooling, 4,898 parameters",
               TrainConfig(epochs=8, batch_size=128, lr=1e-2, weight_decay=1e-4, augment=True)))


def architectures() -> list[str]:
    """The registered architecture names, in registration order."""
    return list(ARCHS)


def get(name: str) -> Arch:
    try:
        return ARCHS[name]
    except KeyError:
        raise EdgeshrinkError(f"unknown architecture {name!r}; choose one of {', '.join(ARCHS)}") from None


def default_config(name: str) -> TrainConfig:
    """The training settings `edgeshrink train --arch NAME` uses when given no options."""
    return get(name).defaults


def build(name: str) -> "nn.Module":
    """A freshly initialized network (uses torch's global random state; seed it first)."""
    get(name)
    nets = importlib.import_module("edgeshrink.zoo.nets")
    return getattr(nets, name)()
