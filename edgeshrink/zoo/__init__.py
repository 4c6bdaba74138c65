"""Reference MNIST architectures: a registry, seeded training and ONNX export."""

from edgeshrink.zoo.config import TrainConfig
from edgeshrink.zoo.export import ARCH_KEY, SIGNATURE, Checkpoint, export, exported, load_checkpoint
from edgeshrink.zoo.registry import ARCHS, WIDTHS, Arch, architectures, build, canonical, default_config, parse
from edgeshrink.zoo.train import Epoch, TrainResult, accuracy, train

__all__ = [
    "ARCHS", "ARCH_KEY", "Arch", "Checkpoint", "Epoch", "SIGNATURE", "TrainConfig", "TrainResult", "WIDTHS",
    "accuracy", "architectures", "build", "canonical", "default_config", "export", "exported", "load_checkpoint",
    "parse", "train",
]
