"""The smallest digit reader at >= 99.0%: a small architecture trained by `edgeshrink train` with several seeds,
each taken through a recipe under an absolute accuracy floor, judged on the 10,000 test images.

    python bench/smallest.py [--archs tiny micro] [--recipes small] [--min-accuracy 99.0] [--seeds 3] \
        [--work out/smallest]

Per architecture, recipe and seed: the trained input's parameters and accuracy, the final ONNX file's bytes (raw, gzip -9, brotli -q 11),
the page's model bytes (the module compiled for it, brotli), the compiled module's own
accuracy, and the wall time of `edgeshrink optimize`; then the median. A finished run (its report.json) is read
back instead of run again, so an interrupted benchmark continues where it stopped.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import machine  # noqa: E402  (bench/machine.py)
from deep_compression import run_recipe, train_baseline  # noqa: E402  (bench/deep_compression.py)

from edgeshrink import atomic, data


def run(arch: str, seed: int, model: Path, recipe: str, out: Path, min_accuracy: float) -> dict:
    """One optimize run under the floor (no budget against the input but the floor), and what the page carries."""
    report, wall, _, load = run_recipe(model, recipe, out, 100.0, min_accuracy)
    base, final = report.baseline, report.final_evaluation
    # what a page carries for the final model: its page build's model.wasm, brotli'd, as optimize measured it
    wasm = final.edge.wasm_brotli if final.edge else 0
    compiled = final.edge.accuracy if final.edge and final.edge.accuracy is not None else float("nan")
    return {"arch": arch, "recipe": recipe, "seed": seed, "params": base.params_total, "input": base.accuracy,
            "final": final.accuracy, "nonzero": final.params_nonzero, "size": final.size, "wasm": wasm,
            "compiled": compiled, "wall": wall, "load": load,
            "stopped": "-" if report.completed else f"step {report.stopped_at}"}


def median(arch: str, recipe: str, group: list[dict]) -> str:
    med = statistics.median
    return (f"| {arch} | {recipe} | **median** | | {100 * med(r['input'] for r in group):.2f}% "
            f"| {100 * med(r['final'] for r in group):.2f}% | {med(r['nonzero'] for r in group):,.0f} "
            f"| {med(r['size'].raw for r in group):,.0f} | {med(r['size'].gzip for r in group):,.0f} "
            f"| {med(r['size'].brotli for r in group):,.0f} | {med(r['wasm'] for r in group):,.0f} "
            f"| | | {med(r['wall'] for r in group):.0f} s |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archs", nargs="+", default=["tiny", "micro"])
    parser.add_argument("--recipes", nargs="+", default=["small"])
    parser.add_argument("--min-accuracy", type=float, default=99.0)
    parser.add_argument("--seeds", type=int, default=3, help="networks trained with seeds 0..N-1")
    parser.add_argument("--work", type=Path, default=Path("out/smallest"))
    parser.add_argument("--results", type=Path, default=Path(__file__).with_name("smallest.md"))
    args = parser.parse_args()
    data.load("test")  # fail early, with the fetch hint, if MNIST is missing
    args.work.mkdir(parents=True, exist_ok=True)
    command = (f"python bench/smallest.py --archs {' '.join(args.archs)} --recipes {' '.join(args.recipes)} "
               f"--min-accuracy {args.min_accuracy:g} --seeds {args.seeds}")
    rows, trained = [], []
    for arch in args.archs:
        for seed in range(args.seeds):
            model, seconds = train_baseline(arch, args.work, seed)
            trained.append(f"{arch} seed {seed}: {seconds:.0f} s" if seconds else f"{arch} seed {seed}: reused")
            for recipe in args.recipes:
                rows.append(run(arch, seed, model, recipe, args.work / f"{model.stem}.{recipe}", args.min_accuracy))
                print(rows[-1], flush=True)
    lines = [f"# The smallest digit reader at >= {args.min_accuracy:g}% on the 10,000 test images", "",
             f"Produced by `{command}`. Training with `edgeshrink train` defaults ({', '.join(trained)}).", "",
             *machine.markdown(), "",
             "| network | recipe | seed | parameters | input | final | non-zero | ONNX raw | gzip | brotli "
             "| page's model (wasm, brotli) | compiled module's accuracy | stopped at | optimize wall |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    for r in rows:
        lines.append(f"| {r['arch']} | {r['recipe']} | {r['seed']} | {r['params']:,} | {100 * r['input']:.2f}% "
                     f"| {100 * r['final']:.2f}% | {r['nonzero']:,} | {r['size'].raw:,} | {r['size'].gzip:,} | {r['size'].brotli:,} "
                     f"| {r['wasm']:,} | {100 * r['compiled']:.2f}% | {r['stopped']} "
                     f"| {r['wall']:.0f} s (load {r['load']:.1f}) |")
    for arch in args.archs:
        for recipe in args.recipes:
            group = [r for r in rows if r["arch"] == arch and r["recipe"] == recipe]
            if len(group) > 1:
                lines.append(median(arch, recipe, group))
    atomic.write_text(args.results, "\n".join(lines) + "\n")
    print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
