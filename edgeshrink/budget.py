"""The accuracy a run may lose: points against its input model, and optionally an absolute floor."""

from __future__ import annotations

from dataclasses import dataclass

from edgeshrink.errors import RecipeError


@dataclass(frozen=True)
class Budget:
    """`max_drop` percentage points against the input; `min_accuracy` (percent) an absolute floor too."""

    max_drop: float = 0.5
    min_accuracy: float | None = None

    def __post_init__(self):
        if self.max_drop < 0:
            raise RecipeError(f"--max-drop must be 0 or more percentage points, not {self.max_drop}")
        if self.min_accuracy is not None and not 0 <= self.min_accuracy <= 100:
            raise RecipeError(f"--min-accuracy must be a percentage between 0 and 100, not {self.min_accuracy}")

    def allowed_drop(self, baseline: float) -> float:
        """Points a model may lose against a baseline accuracy (a fraction): the tighter of drop and floor."""
        if self.min_accuracy is None:
            return self.max_drop
        return min(self.max_drop, 100 * baseline - self.min_accuracy)

    def within(self, baseline: float, accuracy: float) -> bool:
        # a hair of tolerance: 99.27% - 99.17% is 0.1 pt, not 0.1000000001
        return 100 * (baseline - accuracy) <= self.allowed_drop(baseline) + 1e-9

    def describe(self) -> str:
        floor = f", floor {self.min_accuracy:g}%" if self.min_accuracy is not None else ""
        return f"{self.max_drop:g} pt{floor}"
