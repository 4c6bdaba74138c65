"""`edgeshrink optimize|passes|recipes`: run recipes of passes and show what exists."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from edgeshrink import api, tables
from edgeshrink.cli import checks, codes
from edgeshrink.cli.console import console, progress, show
from edgeshrink.cli.options import DataDir, Preprocess


def register(app: typer.Typer) -> None:
    app.command()(optimize)
    app.command()(passes)
    app.command()(recipes)


def optimize(
    model: Annotated[Path, typer.Argument(help="An MNIST classifier in ONNX format.")],
    recipe: Annotated[str, typer.Option(
        "--recipe", "-r", callback=checks.recipe, help="A shipped recipe name or a .yaml path.")] = "default",
    overrides: Annotated[Optional[list[str]], typer.Option(
        "--set", callback=checks.overrides,
        help="Override a step parameter: STEP.PARAM=VALUE, STEP a pass name or position "
                      "(e.g. --set quantize.calibration_images=200). Repeatable.")] = None,
    max_drop: Annotated[float, typer.Option(
        "--max-drop", min=0, help="Accuracy budget in percentage points against the input model.")] = 0.5,
    min_accuracy: Annotated[Optional[float], typer.Option(
        "--min-accuracy", min=0, max=100,
        help="Also an absolute floor: test accuracy in percent no step may fall below (e.g. 99.0).")] = None,
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", help="Output folder (default: MODEL_STEM.RECIPE next to the model).")] = None,
    bundle: Annotated[Optional[Path], typer.Option(
        help="Also build a browser bundle of the input and optimized models into this folder.")] = None,
    preprocess: Preprocess = None,
    data_dir: DataDir = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Write into a folder that holds other files: edgeshrink's files there are replaced, "
                        "the others kept.")] = False,
) -> None:
    """Shrink a model with a recipe, measuring accuracy, size and latency after every step."""
    with progress() as track:
        result = api.optimize(model, recipe, overrides or [], output=output, max_drop=max_drop, min_accuracy=min_accuracy,
                              preprocess=preprocess, data_dir=data_dir, track=track, force=force)
    show(tables.steps_table(result))
    for note in result.baseline.notes:
        console.print(f"note: input: {note}", highlight=False)
    for step in result.steps:
        for note in step.notes:
            console.print(f"note: step {step.position} ({step.name}): {note}", highlight=False)
    console.print(f"{tables.outcome(result)}; outputs in {result.folder}", highlight=False)
    if bundle:
        from edgeshrink.cli.web import bundle_report

        bundle_report(Path(result.folder), bundle, None)
    if not result.completed:
        raise typer.Exit(codes.OVER_BUDGET)


def passes() -> None:
    """List the registered passes that recipes can use."""
    from edgeshrink.passes import REGISTRY

    show(tables.passes_table(list(REGISTRY)))


def recipes() -> None:
    """List the shipped recipes and their steps."""
    from edgeshrink import recipe as recipes_mod

    rows = []
    for name in recipes_mod.shipped():
        plan = recipes_mod.load(name)
        rows.append([name, " -> ".join(s.name for s in plan.steps), plan.description])
    show(tables.Table("recipes", ["recipe", "steps", "description"], rows, set()))
