"""The `edgeshrink` command: parse options, call the library, render. One error boundary."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from edgeshrink.cli import data, models, optimize, web
from edgeshrink.cli.console import console, err_console
from edgeshrink.errors import EdgeshrinkError

app = typer.Typer(
    help="Make small MNIST vision models fit the edge: prune, simplify, fuse, quantize, "
         "prove accuracy on the real MNIST test set, and bundle for the browser.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            console.print(f"edgeshrink {version('edgeshrink')}", highlight=False)
        except PackageNotFoundError:
            console.print("edgeshrink (source checkout, not installed)", highlight=False)
        raise typer.Exit()


@app.callback()
def _root(
    show_version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Show the version and exit.")] = False,
) -> None:
    pass


app.add_typer(data.app, name="data")
models.register(app)
optimize.register(app)
web.register(app)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; EdgeshrinkError becomes one line on stderr and exit code 1 (--debug: traceback)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    if debug:
        argv.remove("--debug")
    try:
        app(args=argv, prog_name="edgeshrink")  # standalone: typer reports usage errors and exits itself
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    except EdgeshrinkError as exc:
        if debug:
            raise
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        return 1
    return 0


def run() -> None:
    sys.exit(main())
