"""How to train a reference architecture: one frozen config, checked when it is built."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

OPTIMIZERS = ("adamw", "sgd")


@dataclass(frozen=True)
class TrainConfig:
    """Training settings; the schedule is one-cycle with `lr` as its peak learning rate.

    The validation split is the last `val_size` training images; it only picks the best epoch.
    """

    epochs: int = 5
    batch_size: int = 128
    lr: float = 3e-3
    optimizer: Literal["adamw", "sgd"] = "adamw"
    weight_decay: float = 1e-4
    label_smoothing: float = 0.0
    augment: bool = False  # small random rotations, scalings and shifts of the training images
    seed: int = 0
    val_size: int = 5000
    threads: int = 0  # 0: torch's default (all cores)
    max_steps: int | None = None  # stop after this many optimizer steps (quick runs and tests)

    def __post_init__(self) -> None:
        _check_at_least("epochs", self.epochs, 1)
        _check_at_least("batch_size", self.batch_size, 1)
        _check_at_least("val_size", self.val_size, 0)
        _check_at_least("threads", self.threads, 0)
        if self.max_steps is not None:
            _check_at_least("max_steps", self.max_steps, 1)
        if not self.lr > 0:
            raise ValueError(f"lr must be greater than 0, not {self.lr}")
        if self.weight_decay < 0:
            raise ValueError(f"weight_decay must be 0 or more, not {self.weight_decay}")
        if not 0 <= self.label_smoothing < 1:
            raise ValueError(f"label_smoothing must be in [0, 1), not {self.label_smoothing}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, not {self.optimizer!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check_at_least(name: str, value: int, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be a whole number of at least {low}, not {value!r}")
