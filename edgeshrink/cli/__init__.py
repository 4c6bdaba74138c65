"""The `edgeshrink` command: parse options, call the library, render. One error boundary."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape

from edgeshrink.cli import codes, data, help, models, optimize, search, web
from edgeshrink.cli.console import console, err_console
from edgeshrink.errors import EdgeshrinkError, from_os_error

app = typer.Typer(
    help="Make small MNIST vision models fit the edge: prune, simplify, fuse, quantize, "
         "prove accuracy on the real MNIST test set, and bundle for the browser.",
    epilog=codes.EPILOG,
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
search.register(app)
web.register(app)
help.quiet(app)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI: every failure becomes one line on stderr and an exit code (codes.py); --debug re-raises."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    if debug:
        argv.remove("--debug")
    try:
        app(args=argv, prog_name="edgeshrink")  # standalone: typer reports usage errors and exits itself
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        if code == codes.INTERRUPTED:  # typer turns Ctrl-C into Exit(130) once the command has unwound
            _say("interrupted (Ctrl-C); unfinished outputs were removed, so the same command starts clean")
        return code
    except EdgeshrinkError as exc:
        return _fail(exc, debug, codes.FAILURE)
    except OSError as exc:  # whatever the operating system refuses, wherever it happens
        return _fail(from_os_error(exc), debug, codes.FAILURE, exc)
    except Exception as exc:  # the last resort: still one line, and a pointer to the traceback
        summary = " ".join(str(exc).split())[:300]
        return _fail(EdgeshrinkError(f"unexpected {type(exc).__name__}: {summary}; this is a bug in edgeshrink, "
                                     "run again with --debug and report the traceback"), debug, codes.BUG, exc)
    return codes.OK


def _fail(error: EdgeshrinkError, debug: bool, code: int, cause: BaseException | None = None) -> int:
    if debug:
        raise cause or error
    _say(f"[bold red]error:[/] {escape(str(error))}")  # messages quote shapes like [1, 784]: not markup
    return code


def _say(markup: str) -> None:
    err_console.print(markup, highlight=False, soft_wrap=True)


def run() -> None:
    sys.exit(main())
