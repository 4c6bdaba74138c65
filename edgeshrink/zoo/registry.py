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
_register(Arch("micro", "the smallest reader: depthwise-separable CNN with max pooling, 2,414 parameters",
               TrainConfig(epochs=30, batch_size=128, lr=1e-2, weight_decay=1e-4, augment=True)))


WIDTHS = (0.25, 4.0)  # the width multipliers `NAME@W` accepts, inclusive


def architectures() -> list[str]:
    """The registered architecture names, in registration order."""
    return list(ARCHS)


def parse(spec: str) -> tuple[str, float]:
    """`NAME` or `NAME@W` -> (registered name, width multiplier); W scales every hidden layer's channels/units."""
    name, sep, text = spec.partition("@")
    get(name)
    if not sep:
        return name, 1.0
    try:
        width = float(text)
    except ValueError:
        width = float("nan")
    if not WIDTHS[0] <= width <= WIDTHS[1]:  # also refuses nan and inf
        raise EdgeshrinkError(f"bad width multiplier {text!r} in {spec!r}; write NAME@W with W between "
                              f"{WIDTHS[0]:g} and {WIDTHS[1]:g}, e.g. {name}@0.5")
    return name, width


def canonical(spec: str) -> str:
    """The one spelling of an architecture and width: `lenet5@0.50` -> `lenet5@0.5`, `lenet5@1` -> `lenet5`."""
    name, width = parse(spec)
    return name if width == 1.0 else f"{name}@{width:g}"


def get(name: str) -> Arch:
    try:
        return ARCHS[name]
    except KeyError:
        raise EdgeshrinkError(f"unknown architecture {name!r}; choose one of {', '.join(ARCHS)}") from None


def default_config(spec: str) -> TrainConfig:
    """The training settings `edgeshrink train --arch NAME[@W]` uses when given no options (any width: NAME's)."""
    return get(parse(spec)[0]).defaults


def build(spec: str) -> "nn.Module":
    """A freshly initialized network, NAME or NAME@W (uses torch's global random state; seed it first)."""
    name, width = parse(spec)
    nets = importlib.import_module("edgeshrink.zoo.nets")
    return getattr(nets, name)(width)
