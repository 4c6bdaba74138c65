"""Reproduce the Deep Compression comparison (Han et al., ICLR 2016, Table 1) end to end on this machine.

Trains LeNet-5 (431,080 parameters, 1.72 MB fp32) and LeNet-300-100 (266,610 parameters, 1.07 MB) with
edgeshrink's defaults, runs the shipped recipes on them, and writes bench/results.md: per run the baseline
and final accuracy, final bytes raw/gzip/brotli, compression ratio (gzip'd final vs the raw fp32 file), ORT
latency, wall and CPU time, and each step; then Table 1 side by side with what each stage contributed.

    python bench/deep_compression.py [--archs lenet5 lenet300] [--recipes max default fast] \
        [--max-drop 0.1 [0.3 ...]] [--seeds 3] [--work out/bench]

With `--seeds N`, N networks per architecture are trained with training seeds 0..N-1 and each goes through every
recipe at every budget; a table gives each seed and the median. A finished run (its report.json) is read back
instead of run again, so an interrupted benchmark continues where it stopped.

Timings on a shared machine vary with its load: the script records the load average and the CPU time
of each run beside its wall time.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time
from dataclasses import replace
from pathlib import Path

import machine  # noqa: E402  (bench/machine.py)

from edgeshrink import api, atomic, data, zoo
from edgeshrink.pipeline import PipelineReport

# Deep Compression, Table 1: (reference error, compressed error, reference bytes, compressed bytes, ratio)
TABLE_1 = {
    "lenet5": ("LeNet-5", 0.80, 0.74, 1_720_000, 44_000, 39),
    "lenet300": ("LeNet-300-100", 1.64, 1.58, 1_070_000, 27_000, 40),
}
STAGES = {"prune": "prune", "cluster": "cluster", "quantize": "int8", "strip": "names", "pack": "codes"}


def train_baseline(arch: str, work: Path, seed: int = 0) -> tuple[Path, float]:
    """`edgeshrink train` defaults with training seed `seed` (seed 0: the `arch.onnx` of earlier runs)."""
    stem = arch if seed == 0 else f"{arch}.seed{seed}"
    onnx_path = work / f"{stem}.onnx"
    if onnx_path.is_file():
        return onnx_path, 0.0
    start = time.perf_counter()
    result = zoo.train(arch, replace(zoo.default_config(arch), seed=seed))
    zoo.export(result, onnx_path, work / f"{stem}.pt")
    return onnx_path, time.perf_counter() - start


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_recipe(model: Path, recipe: str, out: Path, max_drop: float,
               min_accuracy: float | None = None) -> tuple[object, float, float, float]:
    """The report, wall seconds, CPU seconds, and the 1-minute load average when the run started (all three
    from the run's own record when `out` holds a finished run at the same budget)."""
    timing = out / "bench-timing.txt"
    if timing.is_file() and (out / "report.json").is_file():
        report = PipelineReport.read(out)
        if report.max_drop == max_drop and report.min_accuracy == min_accuracy:
            wall, cpu, load = map(float, timing.read_text().split())
            return report, wall, cpu, load
    load, start, cpu = os.getloadavg()[0], time.perf_counter(), _cpu_seconds()
    report = api.optimize(model, recipe, output=out, max_drop=max_drop, min_accuracy=min_accuracy, force=True)
    wall, cpu = time.perf_counter() - start, _cpu_seconds() - cpu
    timing.write_text(f"{wall} {cpu} {load}\n")
    return report, wall, cpu, load


def section(arch: str, recipe: str, report, wall: float, cpu: float, load: float, max_drop: float,
            seed: int = 0) -> list[str]:
    base, final = report.baseline, report.final_evaluation
    lines = [
        f"## `{arch}` (training seed {seed}), recipe `{recipe}`, `--max-drop {max_drop:g}` "
        f"({'completed' if report.completed else 'stopped by the accuracy budget'})", "",
        f"- accuracy: baseline {100 * base.accuracy:.2f}% -> final {100 * final.accuracy:.2f}% "
        f"({100 * (final.accuracy - base.accuracy):+.2f} pt); error {100 * (1 - final.accuracy):.2f}%",
        f"- final bytes: {final.size.raw:,} raw, {final.size.gzip:,} gzip -9, {final.size.brotli:,} brotli",
        f"- compression: {base.size.raw / final.size.gzip:.1f}x (gzip'd final vs raw fp32 baseline of "
        f"{base.size.raw:,} B); {base.size.raw / final.size.brotli:.1f}x brotli",
        f"- ORT CPU latency (1 thread, batch 1): {base.latency.median_ms:.4f} ms -> {final.latency.median_ms:.4f} ms",
        f"- parameters: {base.params_total:,} -> {final.params_total:,} total, {final.params_nonzero:,} non-zero",
        f"- `edgeshrink optimize` wall time {wall:.0f} s, CPU time {cpu:.0f} s "
        f"(load average when it started: {load:.1f} on {os.cpu_count()} cores)", "",
        "| step | pass | seconds | accuracy | bytes | gzip | status |", "|---|---|---:|---:|---:|---:|---|",
    ]
    for s in report.steps:
        e = s.evaluation
        lines.append(f"| {s.position} | {s.name} | {s.seconds:.1f} | {100 * e.accuracy:.2f}% | {e.size.raw:,} "
                     f"| {e.size.gzip:,} | {s.status} |")
    notes = [f"- step {s.position} ({s.name}): {n}" for s in report.steps for n in s.notes if "auto" in n]
    return lines + ([""] + notes if notes else []) + [""]


def table_1(reports: dict[str, object]) -> list[str]:
    """Deep Compression's rows beside the `max` runs, and the bytes after each stage (gzip'd)."""
    lines = ["## Deep Compression Table 1 beside `max`", "",
             "| network | method | error | bytes | ratio vs fp32 |", "|---|---|---:|---:|---:|"]
    for arch, report in reports.items():
        name, ref_err, err, ref_bytes, size, ratio = TABLE_1[arch]
        base, final = report.baseline, report.final_evaluation
        lines += [
            f"| {name} | Deep Compression, reference | {ref_err:.2f}% | {ref_bytes:,} | 1x |",
            f"| {name} | Deep Compression (prune, cluster, Huffman) | {err:.2f}% | {size:,} | {ratio}x |",
            f"| {name} | edgeshrink input (fp32) | {100 * (1 - base.accuracy):.2f}% | {base.size.raw:,} | 1x |",
            f"| {name} | edgeshrink `max`, gzip -9 | {100 * (1 - final.accuracy):.2f}% | {final.size.gzip:,} "
            f"| {base.size.raw / final.size.gzip:.0f}x |",
            f"| {name} | edgeshrink `max`, brotli | {100 * (1 - final.accuracy):.2f}% | {final.size.brotli:,} "
            f"| {base.size.raw / final.size.brotli:.0f}x |",
        ]
    lines += ["", "What each stage contributed (`max`; raw and gzip'd bytes after the stage, and the error):", "",
              "| network | after | raw | gzip | ratio (gzip vs fp32 raw) | error |", "|---|---|---:|---:|---:|---:|"]
    for arch, report in reports.items():
        base = report.baseline
        rows = [("input", base)] + [(f"{s.position} {STAGES.get(s.name, s.name)}", s.evaluation)
                                    for s in report.steps if s.status != "over budget"]
        for label, e in rows:
            lines.append(f"| {TABLE_1[arch][0]} | {label} | {e.size.raw:,} | {e.size.gzip:,} "
                         f"| {base.size.raw / e.size.gzip:.1f}x | {100 * (1 - e.accuracy):.2f}% |")
        final = report.final_evaluation
        lines.append(f"| {TABLE_1[arch][0]} | entropy coding of the final file | {final.size.raw:,} "
                     f"| {final.size.gzip:,} | gzip alone: {final.size.raw / final.size.gzip:.1f}x | |")
    return lines + [""]


def seeds_table(runs: list[dict]) -> list[str]:
    """Each seed's run and the median per architecture, recipe and budget."""
    lines = ["## Every seed and the median", "",
             "| network | recipe | budget | seed | input | final | drop | gzip | ratio (gzip vs fp32) | brotli "
             "| stopped at | wall |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    groups: dict[tuple, list[dict]] = {}
    for run in runs:
        groups.setdefault((run["arch"], run["recipe"], run["drop"]), []).append(run)
    for (arch, recipe, drop), group in groups.items():
        for r in group:
            rep, base, final = r["report"], r["report"].baseline, r["report"].final_evaluation
            stopped = "-" if rep.completed else f"step {rep.stopped_at}"
            lines.append(f"| {TABLE_1[arch][0]} | {recipe} | {drop:g} pt | {r['seed']} | {100 * base.accuracy:.2f}% "
                         f"| {100 * final.accuracy:.2f}% | {100 * (base.accuracy - final.accuracy):.2f} pt "
                         f"| {final.size.gzip:,} | {base.size.raw / final.size.gzip:.1f}x | {final.size.brotli:,} "
                         f"| {stopped} | {r['wall']:.0f} s |")
        if len(group) > 1:
            evals = [(r["report"].baseline, r["report"].final_evaluation) for r in group]
            lines.append(
                f"| {TABLE_1[arch][0]} | {recipe} | {drop:g} pt | **median** "
                f"| {100 * statistics.median(b.accuracy for b, _ in evals):.2f}% "
                f"| {100 * statistics.median(f.accuracy for _, f in evals):.2f}% "
                f"| {100 * statistics.median(b.accuracy - f.accuracy for b, f in evals):.2f} pt "
                f"| {statistics.median(f.size.gzip for _, f in evals):,.0f} "
                f"| {statistics.median(b.size.raw / f.size.gzip for b, f in evals):.1f}x "
                f"| {statistics.median(f.size.brotli for _, f in evals):,.0f} | | "
                f"{statistics.median(r['wall'] for r in group):.0f} s |")
    return lines + [""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archs", nargs="+", default=["lenet5", "lenet300"], choices=list(TABLE_1))
    parser.add_argument("--recipes", nargs="+", default=["max", "default", "fast"])
    parser.add_argument("--max-drop", type=float, nargs="+", default=[0.1])
    parser.add_argument("--seeds", type=int, default=1, help="networks per architecture, training seeds 0..N-1")
    parser.add_argument("--work", type=Path, default=Path("out/bench"))
    parser.add_argument("--results", type=Path, default=Path(__file__).with_name("results.md"))
    args = parser.parse_args()
    data.load("test")  # fail early, with the fetch hint, if MNIST is missing
    args.work.mkdir(parents=True, exist_ok=True)
    lines = ["# Deep Compression comparison on LeNet-5 and LeNet-300-100", "",
             f"Produced by `python bench/deep_compression.py --archs {' '.join(args.archs)} "
             f"--recipes {' '.join(args.recipes)} --max-drop {' '.join(f'{d:g}' for d in args.max_drop)}"
             f"{f' --seeds {args.seeds}' if args.seeds > 1 else ''}`.", "", *machine.markdown()]
    maxed, runs = {}, []
    for arch in args.archs:
        for seed in range(args.seeds):
            model, train_seconds = train_baseline(arch, args.work, seed)
            lines.append(f"Training `{arch}` (seed {seed}) with `edgeshrink train` defaults took {train_seconds:.0f} s "
                         "(0 = reused from an earlier run).")
            lines.append("")
            for recipe in args.recipes:
                for drop in args.max_drop:
                    out = args.work / (f"{model.stem}.{recipe}" + ("" if len(args.max_drop) == 1 else f".drop{drop:g}"))
                    report, wall, cpu, load = run_recipe(model, recipe, out, drop)
                    part = section(arch, recipe, report, wall, cpu, load, drop, seed)
                    print("\n".join(part), flush=True)
                    lines += part
                    runs.append({"arch": arch, "recipe": recipe, "drop": drop, "seed": seed, "report": report,
                                 "wall": wall})
                    if recipe == "max" and seed == 0 and drop == args.max_drop[0]:
                        maxed[arch] = report
    summary = seeds_table(runs) if args.seeds > 1 or len(args.max_drop) > 1 else []
    if maxed:
        summary += table_1(maxed)
    lines = lines[:4] + summary + lines[4:]
    atomic.write_text(args.results, "\n".join(lines))
    print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
