"""Terminal output: rich tables for Table data and rich progress bars for the library's Track."""

from __future__ import annotations

import contextlib
import sys
from typing import Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from edgeshrink.progress import Advance
from edgeshrink.tables.table import Table

console = Console(width=None if sys.stdout.isatty() else 200)  # pipes and files get whole rows
err_console = Console(stderr=True)


def show(table: Table) -> None:
    rich = RichTable(title=table.title, title_justify="left", header_style="bold")
    for col in table.columns:
        numeric = col in table.numeric
        rich.add_column(col, justify="right" if numeric else "left", no_wrap=numeric or col == "step")
    for row in table.rows:
        rich.add_row(*row)
    console.print(rich)


@contextlib.contextmanager
def progress() -> Iterator:
    """A Track for library calls that draws one rich bar per task on stderr while the block runs."""
    bars = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err_console, transient=True,
                    disable=not err_console.is_terminal)  # a pipe or a file gets no bars (nor a blank line)

    @contextlib.contextmanager
    def track(description: str, total: int) -> Iterator[Advance]:
        task = bars.add_task(description, total=total)
        try:
            yield lambda n: bars.advance(task, n)
        finally:
            bars.remove_task(task)

    with bars:
        yield track
