"""Reproduce the Deep Compression comparison on LeNet-5 end to end on this machine.

Trains the Caffe LeNet-5 (431,080 parameters, 1.72 MB fp32) with edgeshrink's defaults, runs the shipped
recipes on it, and writes bench/results.md: baseline and final accuracy, final bytes raw/gzip, compression
ratio (gzip'd final vs raw fp32 baseline), ORT latency ratio final/baseline, and the wall time of each step.
Deep Compression (Han et al. 2016) reached 39x (1.72 MB -> 44 KB) at 0.74% error from 0.80%.

    python bench/deep_compression.py [--recipes max default fast] [--work out/bench]
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

from edgeshrink import api, atomic, data, zoo

DEEP_COMPRESSION = "Deep Compression LeNet-5: 1.72 MB fp32, 0.80% error -> 44 KB (39x) at 0.74% error"


def train_baseline(work: Path) -> tuple[Path, float]:
    onnx_path = work / "lenet5.onnx"
    if onnx_path.is_file():
        return onnx_path, 0.0
    start = time.perf_counter()
    result = zoo.train("lenet5", zoo.default_config("lenet5"))
    zoo.export(result, onnx_path, work / "lenet5.pt")
    return onnx_path, time.perf_counter() - start


def run_recipe(model: Path, recipe: str, work: Path) -> tuple[object, float]:
    start = time.perf_counter()
    report = api.optimize(model, recipe, output=work / recipe, max_drop=0.5)
    return report, time.perf_counter() - start


def section(recipe: str, report, wall: float) -> list[str]:
    base, final = report.baseline, report.final_evaluation
    lines = [
        f"## recipe `{recipe}` ({'completed' if report.completed else 'stopped by the accuracy budget'})", "",
        f"- accuracy: baseline {100 * base.accuracy:.2f}% -> final {100 * final.accuracy:.2f}% "
        f"({100 * (final.accuracy - base.accuracy):+.2f} pt); error {100 * (1 - final.accuracy):.2f}%",
        f"- final bytes: {final.size.raw:,} raw, {final.size.gzip:,} gzip -9, {final.size.brotli:,} brotli",
        f"- compression: {base.size.raw / final.size.gzip:.1f}x (gzip'd final vs raw fp32 baseline of "
        f"{base.size.raw:,} B)",
        f"- ORT CPU latency (1 thread, batch 1): {base.latency.median_ms:.4f} ms -> {final.latency.median_ms:.4f} ms "
        f"(final/baseline {final.latency.median_ms / base.latency.median_ms:.2f})",
        f"- parameters: {base.params_total:,} -> {final.params_total:,} total, {final.params_nonzero:,} non-zero",
        f"- wall time of the whole `edgeshrink optimize` run: {wall:.1f} s", "",
        "| step | pass | seconds | accuracy | bytes | gzip | status |", "|---|---|---:|---:|---:|---:|---|",
    ]
    for s in report.steps:
        e = s.evaluation
        lines.append(f"| {s.position} | {s.name} | {s.seconds:.1f} | {100 * e.accuracy:.2f}% | {e.size.raw:,} "
                     f"| {e.size.gzip:,} | {s.status} |")
    return lines + [""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipes", nargs="+", default=["max", "default", "fast"])
    parser.add_argument("--work", type=Path, default=Path("out/bench"))
    parser.add_argument("--results", type=Path, default=Path(__file__).with_name("results.md"))
    args = parser.parse_args()
    data.load("test")  # fail early, with the fetch hint, if MNIST is missing
    model, train_seconds = train_baseline(args.work)
    lines = ["# Deep Compression comparison on LeNet-5", "",
             f"Reference: {DEEP_COMPRESSION}.", "",
             f"Machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}; "
             f"produced by `python bench/deep_compression.py`.",
             f"Training LeNet-5 with `edgeshrink train --arch lenet5` defaults took {train_seconds:.0f} s "
             "(0 = reused from an earlier run).", ""]
    for recipe in args.recipes:
        report, wall = run_recipe(model, recipe, args.work)
        part = section(recipe, report, wall)
        print("\n".join(part), flush=True)
        lines += part
    atomic.write_text(args.results, "\n".join(lines))
    print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
