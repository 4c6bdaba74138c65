"""Run a recipe on a model (`runner.py`) and keep what it measured in its output folder (`report.py`)."""

from edgeshrink.pipeline.report import FINAL_FILE, INPUT_FILE, REPORT_FILE, SCHEMA, PipelineReport, StepResult
from edgeshrink.pipeline.runner import apply_safely, apply_step, run

__all__ = ["FINAL_FILE", "INPUT_FILE", "PipelineReport", "REPORT_FILE", "SCHEMA", "StepResult", "apply_safely",
           "apply_step", "run"]
