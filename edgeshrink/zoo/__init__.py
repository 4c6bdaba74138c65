"""Reference MNIST architectures: a registry, seeded training and ONNX export."""

from edgeshrink.zoo.config import TrainConfig
from edgeshrink.zoo.export import ARCH_KEY, SIGNATURE, Checkpoint, export, load_checkpoint
from edgeshrink.zoo.registry import ARCHS, Arch, architectures, build, default_config
from edgeshrink.zoo.train import Epoch, TrainResult, accuracy, train

__all__ = [
    "ARCHS", "ARCH_KEY", "Arch", "Checkpoint", "Epoch", "SIGNATURE", "TrainConfig", "TrainResult",
    "accuracy", "architectures", "build", "default_config", "export", "load_checkpoint", "train",
]
