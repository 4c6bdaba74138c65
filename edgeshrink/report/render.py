"""Renderers of a Table: Markdown and CSV text here; the terminal renderer lives with the CLI."""

from __future__ import annotations

import csv
import io

from edgeshrink.report.table import Table


def markdown(table: Table) -> str:
    align = ["---:" if c in table.numeric else "---" for c in table.columns]
    lines = [f"### {table.title}", "", _md_row(table.columns), _md_row(align)]
    lines += [_md_row(row) for row in table.rows]
    return "\n".join(lines) + "\n"


def _md_row(cells: list[str]) -> str:
    return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"


def csv_text(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.columns)
    writer.writerows(table.rows)
    return out.getvalue()
