"""Options shared by several commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from edgeshrink.cli import checks

DataDir = Annotated[Optional[Path], typer.Option(
    "--data-dir", envvar="EDGESHRINK_DATA_DIR",
    help="MNIST cache folder (default: ~/.cache/edgeshrink/mnist)")]
Preprocess = Annotated[Optional[str], typer.Option(
    "--preprocess", "-p", callback=checks.preprocess,
    help="How the model expects pixels: unit (0..1), mnist (mean/std 0.1307/0.3081), symmetric ((x-0.5)/0.5), "
         "raw (0..255) or 'scale=1/255,mean=0.5,std=0.5'. Default: the model's metadata, else detected on "
         "training images.")]
Json = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of tables.")]
