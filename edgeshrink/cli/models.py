"""`edgeshrink train|evaluate|compare`: make and measure models."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from edgeshrink import api, atomic, engine, outputs, tables
from edgeshrink.cli import checks
from edgeshrink.cli.console import console, progress, show
from edgeshrink.cli.options import DataDir, Json, Preprocess
from edgeshrink.errors import EdgeshrinkError
from edgeshrink.zoo import registry


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
    show(tables.evaluation_table(result))
    for note in result.notes:
        console.print(f"note: {note}", highlight=False)
    console.print(f"measured with {engine.current().describe()}", highlight=False)


def compare(
    models: Annotated[list[Path], typer.Argument(
        help="ONNX models, or output folders of 'edgeshrink optimize' (their final model as measured; "
             "given first, their input model too); ratios are against the first.")],
    preprocess: Preprocess = None,
    json_out: Json = False,
    markdown: Annotated[Optional[Path], typer.Option(help="Also write the table as Markdown to this file.")] = None,
    csv: Annotated[Optional[Path], typer.Option(help="Also write the table as CSV to this file.")] = None,
    data_dir: DataDir = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Replace a --markdown or --csv file that is not a comparison edgeshrink wrote.")] = False,
) -> None:
    """Evaluate models side by side on the same measurements, each fed the preprocessing it expects."""
    for target, kind, suffix in ((markdown, "Markdown table", ".md"), (csv, "CSV table", ".csv")):
        if target:  # before the evaluations, not after
            outputs.check_file(target, kind, suffix, ours=lambda path: tables.rendered(path, tables.COMPARE_COLUMNS),
                               force=force, inputs=models)
    with progress() as track:
        results = api.compare(models, preprocess, data_dir, track=track)
    table = tables.compare_table(results)
    if markdown:
        atomic.write_text(markdown, tables.markdown(table))
    if csv:
        atomic.write_text(csv, tables.csv_text(table))
    if json_out:
        console.print_json(json.dumps([r.to_dict() for r in results]))
    else:
        show(table)


def train(
    arch: Annotated[str, typer.Option("--arch", "-a", callback=checks.arch, help=(
        f"{', '.join(registry.architectures()[:-1])} or {registry.architectures()[-1]}; NAME@W scales every hidden layer's channels or units by W "
        "(0.25 to 4), e.g. lenet5@0.5."))] = "lenet5",
    output: Annotated[Path, typer.Option("--output", "-o", help=(
        "A file ending in .onnx (its checkpoint goes beside it, as .pt), or else a folder that gets "
        "ARCH.onnx and ARCH.pt."))] = Path("out"),
    epochs: Annotated[Optional[int], typer.Option(min=1, help="Training epochs (default: per architecture).")] = None,
    lr: Annotated[Optional[float], typer.Option(
        callback=checks.above(0), help="Peak learning rate (default: per architecture).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed (training is deterministic for a seed).")] = 0,
    max_steps: Annotated[Optional[int], typer.Option(
        min=1, help="Stop after this many optimizer steps (quick trials).")] = None,
    data_dir: DataDir = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Replace an existing .onnx or .pt file that 'edgeshrink train' did not write.")] = False,
) -> None:
    """Train a reference architecture on the 60,000 training images and export ONNX + checkpoint."""
    from edgeshrink import zoo

    overrides = {k: v for k, v in {"epochs": epochs, "lr": lr, "seed": seed, "max_steps": max_steps}.items() if v is not None}
    try:
        cfg = dataclasses.replace(zoo.default_config(arch), **overrides)
    except ValueError as exc:
        raise EdgeshrinkError(f"bad training option: {exc}") from exc
    onnx_path, pt_path = _train_outputs(output, arch)  # before training: a bad -o fails at once
    for path, kind in ((onnx_path, "trained model"), (pt_path, "checkpoint")):
        outputs.check_file(path, kind, path.suffix, ours=zoo.exported, force=force)
    with progress() as track:
        result = zoo.train(arch, cfg, data_dir=data_dir, track=track)
        zoo.export(result, onnx_path, pt_path)
        evaluation = api.evaluate_file(onnx_path, data_dir=data_dir, track=track)
    console.print(f"trained {arch} in {result.seconds:.0f} s; validation accuracy {100 * result.val_accuracy:.2f}%")
    show(tables.evaluation_table(evaluation))
    console.print(f"wrote {onnx_path} and {pt_path}", highlight=False)


def _train_outputs(output: Path, arch: str) -> tuple[Path, Path]:
    """-o x.onnx names the model file (x.pt beside it), as exporters do; any other -o is a folder."""
    if output.suffix.lower() == ".onnx":
        if output.is_dir():
            raise EdgeshrinkError(f"{output} is a folder; pass a file name ending in .onnx or a folder without the suffix")
        return output, output.with_suffix(".pt")
    if output.is_file():
        raise EdgeshrinkError(f"{output} is a file, not a folder; pass NAME.onnx to name the model file")
    return output / f"{arch}.onnx", output / f"{arch}.pt"
