"""How a pass fine-tunes: one config, nested in the config of each pass that trains (prune, cluster), whose
fields a recipe still sets flat (`finetune_epochs`, `lr`, ...)."""

from __future__ import annotations

from dataclasses import dataclass

from edgeshrink.params import param


@dataclass(frozen=True)
class FineTune:
    """Training on the training images after the weights changed; a pass gives its own defaults."""

    epochs: float = param(1.0, "fine-tuning, in passes over the training images; 0: none", key="finetune_epochs",
                          search=(0.25, 0.5, 1.0, 2.0, 3.0))  # at most the search's --max-finetune-epochs
    lr: float = param(1e-3, "Adam learning rate while fine-tuning")
    batch_size: int = param(64, "training images per fine-tuning step")
    augment: bool = param(False, "fine-tune on training images slightly rotated, scaled and shifted")
    distill: bool = param(False, "also match the model before the pass: its softened scores", search=(False, True))
    temperature: float = param(4.0, "distillation: how much the scores are softened")
    alpha: float = param(0.5, "distillation's share of the loss")
    images: int | None = param(None, "fine-tune on the first N training images only (null: all)",
                               key="finetune_images")
    threads: int = param(1, "torch threads while fine-tuning (0: torch's default; more than one stalls "
                            "on a busy CPU)")

    def __post_init__(self):
        checks = [  # named as a recipe names them
            ("finetune_epochs", self.epochs, self.epochs >= 0, "0 or more"),
            ("lr", self.lr, self.lr > 0, "greater than 0"),
            ("batch_size", self.batch_size, self.batch_size >= 1, "at least 1"),
            ("temperature", self.temperature, self.temperature > 0, "greater than 0"),
            ("alpha", self.alpha, 0 <= self.alpha <= 1, "between 0 and 1"),
            ("finetune_images", self.images, self.images is None or self.images >= 1, "at least 1"),
            ("threads", self.threads, self.threads >= 0, "0 or more"),
        ]
        for name, value, ok, rule in checks:
            if not ok:
                raise ValueError(f"{name} must be {rule}, not {value}")
