"""`edgeshrink train|evaluate|compare`: make and measure models."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from edgeshrink import api, atomic, report
from edgeshrink.cli.console import console, progress, show
from edgeshrink.cli.options import DataDir, Json, Preprocess
from edgeshrink.errors import EdgeshrinkError


def register(app: typer.Typer) -> None:
    app.command()(train)
    app.command()(evaluate)
    app.command()(compare)


def evaluate(
    model: Annotated[Path, typer.Argument(help="An MNIST classifier in ONNX format.")],
    preprocess: Preprocess = None,
    json_out: Json = False,
    no_latency: Annotated[bool, typer.Option("--no-latency", help="Skip the latency measurement.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Measure a model: accuracy on all 10,000 MNIST test images, parameters, bytes, latency, operators."""
    with progress() as track:
        result = api.evaluate_file(model, preprocess, data_dir, latency=not no_latency, track=track)
    if json_out:
        console.print_json(json.dumps(result.to_dict()))
        return
    show(report.evaluation_table(result))
    for note in result.notes:
        console.print(f"note: {note}", highlight=False)


def compare(
    models: Annotated[list[Path], typer.Argument(
        help="ONNX models, or output folders of 'edgeshrink optimize' (their final model as measured; "
             "given first, their input model too); ratios are against the first.")],
    preprocess: Preprocess = None,
    json_out: Json = False,
    markdown: Annotated[Optional[Path], typer.Option(help="Also write the table as Markdown to this file.")] = None,
    csv: Annotated[Optional[Path], typer.Option(help="Also write the table as CSV to this file.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Evaluate models side by side on the same measurements, each fed the preprocessing it expects."""
    with progress() as track:
        results = api.compare(models, preprocess, data_dir, track=track)
    table = report.compare_table(results)
    if markdown:
        atomic.write_text(markdown, report.markdown(table))
    if csv:
        atomic.write_text(csv, report.csv_text(table))
    if json_out:
        console.print_json(json.dumps([r.to_dict() for r in results]))
    else:
        show(table)


def train(
    arch: Annotated[str, typer.Option("--arch", "-a", help="lenet5, lenet300, zoo8 or tiny.")] = "lenet5",
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for ARCH.onnx and ARCH.pt.")] = Path("out"),
    epochs: Annotated[Optional[int], typer.Option(help="Training epochs (default: per architecture).")] = None,
    lr: Annotated[Optional[float], typer.Option(help="Peak learning rate (default: per architecture).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed (training is deterministic for a seed).")] = 0,
    max_steps: Annotated[Optional[int], typer.Option(help="Stop after this many optimizer steps (quick trials).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Train a reference architecture on the 60,000 training images and export ONNX + checkpoint."""
    from edgeshrink import zoo

    overrides = {k: v for k, v in {"epochs": epochs, "lr": lr, "seed": seed, "max_steps": max_steps}.items() if v is not None}
    try:
        cfg = dataclasses.replace(zoo.default_config(arch), **overrides)
    except ValueError as exc:
        raise EdgeshrinkError(f"bad training option: {exc}") from exc
    with progress() as track:
        result = zoo.train(arch, cfg, data_dir=data_dir, track=track)
        onnx_path = output / f"{arch}.onnx"
        zoo.export(result, onnx_path, output / f"{arch}.pt")
        evaluation = api.evaluate_file(onnx_path, data_dir=data_dir, track=track)
    console.print(f"trained {arch} in {result.seconds:.0f} s; validation accuracy {100 * result.val_accuracy:.2f}%")
    show(report.evaluation_table(evaluation))
    console.print(f"wrote {onnx_path} and {output / f'{arch}.pt'}")
