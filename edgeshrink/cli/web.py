"""`edgeshrink bundle|serve` (filled in with the web bundle)."""

import typer


def register(app: typer.Typer) -> None:
    pass
