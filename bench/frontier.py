"""The edge frontier on this machine: how large can an MNIST model in a web page get before the user waits?

Runs `edgeshrink search --arch lenet5,zoo8,tiny`: each architecture trained once on training images (LeNet-5 is
the 431k-parameter Caffe model of Deep Compression, zoo8 and tiny are 6k and 5k parameters), recipes searched over
all three (with `--input`, a LeNet-5 trained with `edgeshrink train` defaults is the input model and the shipped
recipes are run on it as landmarks), re-measures the Pareto front on the 10,000 test
images and in headless Chromium (`edgeshrink verify`: localhost, emulated 4G and slow 4G), and writes
docs/frontier/: the table, the plots, the HTML page and answer.md, which
names the largest model whose first prediction comes within 100 ms, 300 ms and 1 s on each network.

    python bench/frontier.py [--trials 12] [--search-minutes 8] [--work out/frontier-bench] [--input]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

import machine  # noqa: E402  (bench/machine.py)

from edgeshrink import atomic, zoo
from edgeshrink.search import Options, search
from edgeshrink.search.frontier.measure import Point, largest_within

DOCS = Path(__file__).resolve().parents[1] / "docs" / "frontier"
BUDGETS_MS = (100, 300, 1000)
NETWORKS = ("localhost", "4g", "slow-4g")
KEEP = ("frontier.md", "frontier.csv", "frontier.json", "frontier.html", "accuracy-vs-bytes.png",
        "accuracy-vs-first-prediction-4g.png")


def train_lenet5(work: Path) -> Path:
    path = work / "lenet5.onnx"
    if not path.is_file():
        zoo.export(zoo.train("lenet5", zoo.default_config("lenet5")), path)
    return path


def answer_lines(points: list[Point]) -> list[str]:
    lines = ["| budget | network | largest model | kind, arch | test accuracy | first-visit brotli | model brotli "
             "| parameters (non-zero) | first prediction |", "|---|---|---|---|---:|---:|---:|---:|---:|"]
    for network in NETWORKS:
        for budget in BUDGETS_MS:
            p = largest_within(points, budget, network)
            if p is None:
                fastest = min(points, key=lambda q: q.first_prediction_ms[network])
                lines.append(f"| {budget} ms | {network} | none (fastest: {fastest.name}, "
                             f"{fastest.first_prediction_ms[network]:,.0f} ms) | | | | | | |")
                continue
            lines.append(f"| {budget} ms | {network} | {p.name} | {p.kind}, {p.arch} | {100 * p.test_accuracy:.2f}% "
                         f"| {p.transfer_brotli:,} B | {p.model_brotli:,} B | {p.params_nonzero:,} "
                         f"| {p.first_prediction_ms[network]:,.0f} ms |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--search-minutes", type=float, default=8.0, help="stop starting trials after this")
    parser.add_argument("--archs", default="lenet5,zoo8,tiny",
                        help="architectures to train and search; NAME@W for a width multiplier, e.g. lenet5@0.5")
    parser.add_argument("--arch-epochs", type=int, default=1, help="training epochs of each --archs model")
    parser.add_argument("--finetune-epochs", type=float, default=0.25, help="largest fine-tuning choice")
    parser.add_argument("--contexts", type=int, default=3,
                        help="fresh page loads per network; the median is the time to first prediction")
    parser.add_argument("--input", action="store_true", help="also a LeNet-5 input model with landmark recipes")
    parser.add_argument("--references", default="fast,default", help="shipped recipes run on --input")
    parser.add_argument("--work", type=Path, default=Path("out/frontier-bench"))
    parser.add_argument("--report-only", action="store_true",
                        help="rewrite docs/frontier from the last run's frontier.json and study (no new search)")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.report_only:
        write_docs(args, *_last_run(args.work))
        return 0
    start, load_before = time.perf_counter(), os.getloadavg()[0]
    model = train_lenet5(args.work) if args.input else None
    trained = time.perf_counter() - start
    opts = Options(trials=args.trials, archs=tuple(a for a in args.archs.split(",") if a),
                   arch_epochs=args.arch_epochs, references=tuple(r for r in args.references.split(",") if r),
                   seed=0, timeout_s=args.search_minutes * 60, max_finetune_epochs=args.finetune_epochs,
                   budget_ms=300, network="4g", networks=NETWORKS, contexts=args.contexts)
    result = search(model, args.work / "search", opts)
    wall = time.perf_counter() - start
    run = {"wall_s": wall, "trained_s": trained, "complete": result.complete, "failed": result.failed,
           "dead": result.dead, "answer": result.frontier.answer,
           "load": [round(load_before, 1), round(os.getloadavg()[0], 1)]}
    atomic.write_text(args.work / "bench-run.json", json.dumps(run, indent=1) + "\n")
    write_docs(args, result.frontier.points, run)
    return 0


def _last_run(work: Path) -> tuple[list[Point], dict]:
    doc = json.loads((work / "search" / "frontier" / "frontier.json").read_text())
    run = json.loads((work / "bench-run.json").read_text())
    return [Point(**p) for p in doc["points"]], run


def write_docs(args, points: list[Point], run: dict) -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    for name in KEEP:
        shutil.copyfile(args.work / "search" / "frontier" / name, DOCS / name)
    archs = sorted({p.arch for p in points if p.kind == "pareto"})
    command = (f"python bench/frontier.py --trials {args.trials} --search-minutes {args.search_minutes:g} "
               f"--archs {args.archs} --arch-epochs {args.arch_epochs} --finetune-epochs {args.finetune_epochs:g}"
               f" --contexts {args.contexts}"
               + (f" --input --references {args.references}" if args.input else ""))
    text = [
        "# The edge frontier (bench/frontier.py)", "",
        f"`{command}` on {platform.machine()} ({_cores()} cores, shared with other jobs), Python "
        f"{platform.python_version()}: {run['wall_s'] / 60:.1f} min in all.", "",
        f"Study: {run['complete']} trials complete, {len(run['failed'])} failed (recorded with their reason), "
        f"{run['dead']} retried after a worker died. Architectures on the Pareto front: {', '.join(archs)}.", "",
        "Every number below is re-measured after the search: accuracy on the 10,000 MNIST test images, bytes from "
        "the bundle (brotli quality 11, runtime + model; 'wire' = what the page received), time to first "
        f"prediction with `edgeshrink verify` in headless Chromium on a cold cache (median of {args.contexts} fresh "
        "page loads per network); "
        "4g = 9 Mbit/s, 100 ms round trips, slow-4g = 1.6 Mbit/s, 150 ms. Timings come from a 2-core machine "
        f"shared with other jobs ({_load(run)}): compare them side by side, not with other runs.", "",
        *machine.markdown(),
        "## The largest model whose first prediction comes within the budget", "", *answer_lines(points), "",
        f"`--budget-ms 300 --network 4g`: {run['answer']}.", "",
        "## The frontier", "", (DOCS / "frontier.md").read_text(), "",
        *[f"- failed trial {n}: {reason}" for n, reason in run["failed"]],
    ]
    atomic.write_text(DOCS / "answer.md", "\n".join(text) + "\n")
    print("\n".join(text))


def _cores() -> int:
    return os.cpu_count() or 1


def _load(run: dict) -> str:
    if "load" not in run:
        return "load average not recorded"
    before, after = run["load"]
    return f"1-minute load average {before:g} when it started, {after:g} when the search ended"


if __name__ == "__main__":
    sys.exit(main())
