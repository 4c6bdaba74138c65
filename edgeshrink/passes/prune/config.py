"""What the prune pass is asked to do: its recipe parameters and the schedule of its rounds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from edgeshrink.finetune.config import FineTune
from edgeshrink.params import check_choices, param

MAX_SPARSITY = 0.99


@dataclass(frozen=True)
class PruneConfig:
    """What to remove and how to recover: `sparsity` is the share of weights (unstructured) or of each
    layer's channels (structured) taken away, `finetune` the training after each round."""

    method: Literal["unstructured", "structured"] = param(
        "structured", "structured: remove whole channels and neurons; unstructured: zero single weights")
    sparsity: float | Literal["auto"] = param(
        0.5, "share of each layer's channels (structured) or of the weights (unstructured) removed, "
             f"0 to {MAX_SPARSITY}, never the output layer; auto: the largest within the run's budget",
        search={"structured": (0.0, 0.25, 0.4, 0.55, 0.7, 0.8), "unstructured": (0.0, 0.5, 0.7, 0.8, 0.9, 0.95)})
    scope: Literal["layer", "global"] = param(
        "layer", "unstructured: one magnitude threshold per layer, or one for all layers")
    norm: Literal["l1", "l2"] = param("l1", "structured: how a channel's weights are ranked")
    rounds: int = param(1, "prune-then-fine-tune cycles reaching `sparsity` geometrically")
    finetune: FineTune = param(FineTune(), "the fine-tuning after each round (its parameters are the step's)")
    max_sparsity: float = param(0.95, "auto: the largest sparsity it tries")
    trials: int = param(5, "auto: candidates fine-tuned and judged on held-out training images, at most")
    stride: float = param(0.5, "auto: each trial keeps this share of what the last passing trial kept; "
                               "after a trial over budget, its square root")
    budget_share: float = param(1.0, "auto: the share of the run's accuracy budget this step may spend")

    def __post_init__(self):
        check_choices(self)
        if self.sparsity != "auto" and not 0 <= self.sparsity <= MAX_SPARSITY:
            raise ValueError(f"sparsity must be between 0 and {MAX_SPARSITY} or auto, not {self.sparsity}")
        if self.sparsity == "auto" and self.rounds != 1:
            raise ValueError("rounds applies to a fixed sparsity; sparsity auto prunes step by step already")
        if self.method == "structured" and self.scope == "global":
            raise ValueError("scope global applies to unstructured pruning only; structured pruning "
                             "removes the same share of channels from every layer")
        checks = [
            ("rounds", self.rounds >= 1, "at least 1"),
            ("max_sparsity", 0 < self.max_sparsity <= MAX_SPARSITY, f"above 0 and at most {MAX_SPARSITY}"),
            ("trials", self.trials >= 1, "at least 1"),
            ("stride", 0 < self.stride < 1, "above 0 and below 1"),
            ("budget_share", 0 < self.budget_share <= 1, "above 0 and at most 1"),
        ]
        for name, ok, rule in checks:
            if not ok:
                raise ValueError(f"{name} must be {rule}, not {getattr(self, name)}")


def kept_share(sparsity: float, done: int, rounds: int) -> float:
    """The share of weights or channels left after `done` of `rounds` rounds (a geometric schedule)."""
    return (1 - sparsity) ** (done / rounds)
