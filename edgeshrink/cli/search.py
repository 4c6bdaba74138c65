"""`edgeshrink search`: parse the options, run the study, show the frontier and the budget's answer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from edgeshrink.cli import checks
from edgeshrink.cli.console import console, err_console, progress, show
from edgeshrink.cli.options import DataDir, Preprocess


def register(app: typer.Typer) -> None:
    app.command()(search)


def search(
    model: Annotated[Optional[Path], typer.Argument(help="An MNIST classifier in ONNX (optional with --arch).")] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the study, trials and frontier.")] = Path("out/search"),
    trials: Annotated[int, typer.Option(
        min=1, help="Finished trials (complete, or failed with a reason) the study should hold in all, whoever "
                    "ran them: the same command run again finishes what an interrupted run left, or adds none; "
                    "raise N for more.")] = 12,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes on this machine, sharing the study.")] = 1,
    storage: Annotated[Optional[str], typer.Option(
        callback=checks.storage,
        help="An Optuna database URL, e.g. postgresql://user:pw@host/db (default: SQLite in the output folder).")] = None,
    study: Annotated[Optional[str], typer.Option(help="Study name (default: the model file's stem).")] = None,
    space: Annotated[str, typer.Option(
        callback=checks.dimensions,
        help="Dimensions to search, comma-separated: structured, unstructured, cluster, quantize.")] = "structured,unstructured,cluster,quantize",
    arch: Annotated[str, typer.Option(
        callback=checks.archs,
        help="Also search edgeshrink's architectures (e.g. tiny,zoo8,lenet5), each trained once on training "
             "images and kept in the output folder; NAME@W scales its hidden layers' width by W "
             "(e.g. lenet5@0.5,lenet5,zoo8@2).")] = "",
    arch_epochs: Annotated[Optional[int], typer.Option(
        min=1, help="Epochs to train each --arch model (default: the architecture's own).")] = None,
    seed: Annotated[int, typer.Option(help="Sampler seed (worker i uses seed + i).")] = 0,
    timeout: Annotated[Optional[float], typer.Option(
        callback=checks.above(0), help="Each worker stops starting trials after this many seconds.")] = None,
    heartbeat: Annotated[int, typer.Option(
        min=1, help="Seconds between worker heartbeats; a trial silent for twice this is failed and retried.")] = 30,
    val_images: Annotated[int, typer.Option(
        min=100, max=20000,
        help="The last N training images score accuracy during the search (passes never see them).")] = 5000,
    max_finetune_epochs: Annotated[float, typer.Option(
        callback=checks.above(0), help="Largest fine-tuning choice, in epochs.")] = 2.0,
    references: Annotated[str, typer.Option(
        callback=checks.recipes,
        help="Shipped recipes run on the input model as landmarks in the plots ('' for none).")] = "fast,default,max",
    networks: Annotated[str, typer.Option(
        callback=checks.profiles,
        help="Profiles for the time to first prediction: localhost, 4g, slow-4g, cpu4x.")] = "localhost,4g,slow-4g",
    contexts: Annotated[int, typer.Option(min=1, help="Fresh page loads per profile (their median counts).")] = 1,
    budget_ms: Annotated[Optional[float], typer.Option(
        callback=checks.above(0),
        help="Answer: the most accurate model whose first prediction comes within this many ms on --network.")] = None,
    network: Annotated[str, typer.Option(
        callback=checks.profile, help="The network profile of --budget-ms: localhost, 4g, slow-4g.")] = "4g",
    remeasure: Annotated[bool, typer.Option(help="Re-measure the frontier and write the report (--no-remeasure: "
                                                 "only run trials).")] = True,
    preprocess: Preprocess = None,
    data_dir: DataDir = None,
) -> None:
    """Search recipes (and architectures) for the accuracy / first-visit bytes / latency frontier."""
    if not model and not checks.names(arch):
        raise typer.BadParameter("nothing to search from: pass a model file, or --arch with edgeshrink's "
                                 "architectures", param_hint="MODEL")
    if budget_ms is not None and network not in checks.names(networks):
        raise typer.BadParameter(f"{network} is not among the measured --networks {networks}",
                                 param_hint="'--network'")
    from edgeshrink.search import Options
    from edgeshrink.search import search as run_search

    opts = Options(trials=trials, workers=workers, storage=storage, study=study, space=checks.names(space),
                   archs=checks.names(arch), arch_epochs=arch_epochs, seed=seed, timeout_s=timeout,
                   heartbeat_s=heartbeat, val_images=val_images, max_finetune_epochs=max_finetune_epochs,
                   references=checks.names(references), networks=checks.names(networks), contexts=contexts,
                   budget_ms=budget_ms, network=network, remeasure=remeasure,
                   preprocess=preprocess)
    with progress() as track:
        result = run_search(model, output, opts, data_dir=data_dir, track=track)
    for note in result.notes:
        console.print(f"note: {note}", highlight=False)
    for number, reason in result.failed:  # its traceback is in trials/NNNN/failure.txt
        err_console.print(f"trial {number} failed: {reason}", highlight=False, soft_wrap=True)
    retried = f", {len(result.requeued)} run again after Ctrl-C or a machine failure" if result.requeued else ""
    console.print(f"study {result.study!r} in {result.storage}: {result.complete} complete, "
                  f"{len(result.failed)} failed, {result.dead} retried after a worker died{retried}", highlight=False)
    if result.frontier is None:
        return
    from edgeshrink.search.frontier.plots import frontier_table

    show(frontier_table(result.frontier.points, opts.networks))
    for note in result.frontier.notes:
        console.print(f"note: {note}", highlight=False)
    console.print(result.frontier.answer, highlight=False)
    console.print(f"outputs in {result.frontier.folder}", highlight=False)
