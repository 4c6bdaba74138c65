"""Renderers of a Table: Markdown and CSV text here; the terminal renderer lives with the CLI."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from edgeshrink.tables.table import Table


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


def rendered(path: Path, columns: list[str]) -> bool:
    """Whether `path` holds a table with these columns as `markdown` or `csv_text` wrote it."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            head = [f.readline().rstrip("\n") for _ in range(3)]
    except OSError:
        return False
    return head[0] == csv_text(Table("", columns, [], set())).rstrip("\n") or (
        head[0].startswith("### ") and head[2] == _md_row(columns))
