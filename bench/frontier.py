"""The edge frontier on this machine: how large can an MNIST model in a web page get before the user waits?

Trains LeNet-5 with edgeshrink's defaults, runs `edgeshrink search` on it and on edgeshrink's smaller
architectures (each trained once on training images), re-measures the Pareto front on the 10,000 test
images and in headless Chromium (localhost, emulated 4G and slow 4G with a 4x CPU slow-down, bundle served
brotli-compressed), and writes docs/frontier/: the table, the plots, the HTML page and answer.md, which
names the largest model whose first prediction comes within 100 ms, 300 ms and 1 s on each network.

    python bench/frontier.py [--trials 24] [--search-minutes 14] [--work out/frontier-bench]
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import time
from pathlib import Path

from edgeshrink import atomic, zoo
from edgeshrink.search import Options, search
from edgeshrink.search.frontier import Point, largest_within

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
    parser.add_argument("--trials", type=int, default=24)
    parser.add_argument("--search-minutes", type=float, default=14.0, help="stop starting trials after this")
    parser.add_argument("--archs", default="tiny,zoo8")
    parser.add_argument("--work", type=Path, default=Path("out/frontier-bench"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    model = train_lenet5(args.work)
    trained = time.perf_counter() - start
    opts = Options(trials=args.trials, archs=tuple(a for a in args.archs.split(",") if a), seed=0,
                   timeout_s=args.search_minutes * 60, max_finetune_epochs=1.0, budget_ms=300, network="4g",
                   networks=NETWORKS)
    result = search(model, args.work / "search", opts)
    wall = time.perf_counter() - start
    DOCS.mkdir(parents=True, exist_ok=True)
    for name in KEEP:
        shutil.copyfile(result.frontier.folder / name, DOCS / name)
    points = result.frontier.points
    archs = sorted({p.arch for p in points if p.kind == "pareto"})
    text = [
        "# The edge frontier (bench/frontier.py)", "",
        f"`python bench/frontier.py --trials {args.trials} --search-minutes {args.search_minutes:g} "
        f"--archs {args.archs}` on {platform.machine()} ({_cores()} cores, shared with other jobs), Python "
        f"{platform.python_version()}: {wall / 60:.1f} min in all (LeNet-5 training {trained:.0f} s).", "",
        f"Study: {result.complete} trials complete, {len(result.failed)} failed (recorded with their reason), "
        f"{result.dead} retried after a worker died. Pareto architectures: {', '.join(archs)}.", "",
        "Every number below is re-measured after the search: accuracy on the 10,000 MNIST test images, bytes from "
        "the files (brotli quality 11, runtime + model), time to first prediction in headless Chromium on a cold "
        "cache, the bundle served brotli-compressed; 4g = 9 Mbit/s, 100 ms RTT, slow-4g = 1.6 Mbit/s, 150 ms RTT, "
        "both with a 4x CPU slow-down. Timings come from a loaded 2-core machine: compare them side by side.", "",
        "## The largest model whose first prediction comes within the budget", "", *answer_lines(points), "",
        f"`--budget-ms 300 --network 4g`: {result.frontier.answer}.", "",
        "## The frontier", "", (DOCS / "frontier.md").read_text(), "",
        *[f"- failed trial {n}: {reason}" for n, reason in result.failed],
    ]
    atomic.write_text(DOCS / "answer.md", "\n".join(text) + "\n")
    print("\n".join(text))
    return 0


def _cores() -> int:
    import os

    return os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main())
