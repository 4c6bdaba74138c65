"""The search's objectives, in one table: what the study optimizes, in which direction, and how each is read
from a trial's record. The study's directions, a trial's values and the frontier's search-time columns all
come from here, in this order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Objective:
    name: str  # as trial.json and the study's values name it
    direction: str  # "maximize" or "minimize", as Optuna takes it
    read: Callable  # TrialRecord -> the value
    column: str  # the frontier's name for the search-time value, beside its re-measured one

    def direction_value(self):
        """Optuna's StudyDirection for this objective."""
        from optuna.study import StudyDirection

        return StudyDirection.MAXIMIZE if self.direction == "maximize" else StudyDirection.MINIMIZE


OBJECTIVES = (
    Objective("val_accuracy", "maximize", lambda r: r.val_accuracy, "val_accuracy"),
    Objective("transfer_brotli", "minimize", lambda r: r.edge.transfer_brotli, "transfer_brotli"),  # first visit
    Objective("latency_ms", "minimize", lambda r: r.edge.latency_ms, "node_latency_ms"),  # per digit, in Node
)
