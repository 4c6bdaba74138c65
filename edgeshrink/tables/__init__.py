"""Render results: the same data as terminal tables, Markdown, CSV and JSON."""

from edgeshrink.tables.table import (
    COMPARE_COLUMNS,
    Table,
    compare_table,
    evaluation_table,
    outcome,
    passes_table,
    steps_table,
)
from edgeshrink.tables.text import csv_text, markdown, rendered

__all__ = ["COMPARE_COLUMNS", "Table", "compare_table", "csv_text", "evaluation_table", "markdown", "outcome",
           "passes_table", "rendered", "steps_table"]
