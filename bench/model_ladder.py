"""How large can a model in a web page get before the user feels it? A ladder of models from about 1 KB to about
10 MB, each in its own page, first answer timed in Chromium on localhost, 4g, slow-4g and a 4x slower CPU, with the
empty page (one script that reports its time) in the same run as the floor.

The rungs are edgeshrink's architectures at several widths (`tiny@0.25` to `lenet5@2.5`), each trained by
`edgeshrink train` for `--epochs` epochs on training images and taken through the `fast` recipe; every rung gives two
pages: the trained float model and its int8 model. Each page is `edgeshrink bundle` of that one model on the compiled
runtime, served by `edgeshrink serve` (brotli). Writes docs/frontier/ladder.md, the plot
docs/frontier/first-answer-vs-model-bytes.png and bench/model_ladder.json.

The search (bench/frontier.py) keeps only models on the accuracy/bytes/latency Pareto front; a large model that is
no more accurate never reaches its browser measurement. The question here is the page's cost of model bytes, so
every rung is measured, accurate or not.

    python bench/model_ladder.py [--work out/ladder] [--contexts 3] [--epochs 1] [--rungs tiny@0.25,zoo8,...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from dataclasses import replace
from pathlib import Path

import machine  # noqa: E402  (bench/machine.py)

from edgeshrink import api, atomic, zoo
from edgeshrink.core import model as model_io
from edgeshrink.web import bundle
from edgeshrink.web.assemble.compress import compress
from edgeshrink.web.assemble.placement import place
from edgeshrink.web.assemble.variants import from_optimize_output
from edgeshrink.web.check import timing
from edgeshrink.web.check.browser import Watch, chromium
from edgeshrink.web.check.serve import running

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "frontier"
RUNGS = ("zoo8@0.25", "tiny@0.25", "zoo8", "lenet300@0.25", "lenet300", "lenet5", "lenet300@4", "lenet5@2",
         "lenet5@2.5")
PROFILES = ("localhost", "4g", "slow-4g", "cpu4x")
BUDGETS_MS = (100, 300, 1000)


def trained(spec: str, work: Path, epochs: int) -> Path:
    path = work / f"{spec}.onnx"
    if not path.is_file():
        cfg = replace(zoo.default_config(spec), epochs=epochs)
        zoo.export(zoo.train(spec, cfg), path)
    return path


def optimized(spec: str, work: Path, epochs: int) -> Path:
    out = work / f"{spec}.fast"
    if not (out / "report.json").is_file():
        api.optimize(trained(spec, work, epochs), "fast", output=out, max_drop=100)
    return out


def pages(spec: str, work: Path, epochs: int) -> list[tuple[str, dict, Path]]:
    """(label, facts, bundle folder) for the float model and the int8 model of one rung, bundled once."""
    found = []
    for variant in from_optimize_output(optimized(spec, work, epochs)):
        kind = "int8" if model_io.is_quantized(model_io.load(variant.model_path)) else "float"
        if variant.name == "optimized" and kind == "float":
            continue  # `fast` left this rung float (int8 came out larger): the float page already has it
        folder = work / "dist" / f"{spec}.{kind}"
        if (folder / "ladder.json").is_file():
            facts = json.loads((folder / "ladder.json").read_text())
        else:
            result = bundle([variant], folder, force=True)
            runtime, reason = result.runtimes[variant.name]
            facts = {"rung": spec, "kind": kind, "variant": variant.name, "params": variant.params_total, "accuracy": variant.accuracy,
                     "runtime": runtime, "reason": reason,
                     "model_brotli": result.first_visit["models"]["brotli"] or carried_bytes(variant),
                     "onnx_bytes": variant.model_path.stat().st_size,
                     "first_answer_brotli": result.first_visit["first_answer"]["brotli"],
                     "first_visit_brotli": result.first_visit["total"]["brotli"]}
            (folder / "ladder.json").write_text(json.dumps(facts))
        found.append((f"{spec} {kind}", facts, folder))
    return found


def carried_bytes(variant) -> int:
    """Brotli bytes of a compiled model that index.html carries inside it (the bundle counts it as the page's)."""
    proto = variant.proto if variant.proto is not None else model_io.load(variant.model_path)
    placed = place(variant, proto, "compiled")
    return sum(len(compress(data)[1]) for name, data in placed.files.items()) if placed.runtime == "compiled" else 0


def time_page(browser, folder: Path, name: str, contexts: int) -> dict[str, list[float]]:
    """Median first answer (ms, in the page) and on screen per profile, over `contexts` fresh contexts."""
    with running(folder) as url:
        return {p: list(timing.median_first_prediction(browser, url, name, timing.PROFILES[p], Watch(url),
                                                       contexts)) for p in PROFILES}


def bend(rows: list[dict], profile: str) -> dict:
    """Where the curve bends: the largest model whose first answer is within 20% (and 20 ms) of the smallest
    model's, and the cost per megabyte of model beyond it (least squares over the larger models)."""
    ordered = sorted(rows, key=lambda r: r["model_brotli"])
    base = ordered[0]["first"][profile][0]
    flat = [r for r in ordered if r["first"][profile][0] <= base + max(20.0, 0.2 * base)]
    knee = max(flat, key=lambda r: r["model_brotli"])
    beyond = [r for r in ordered if r["model_brotli"] > knee["model_brotli"]]
    slope = None
    if len(beyond) >= 2:
        xs = [r["model_brotli"] / 1e6 for r in beyond]
        ys = [r["first"][profile][0] for r in beyond]
        mx, my = statistics.fmean(xs), statistics.fmean(ys)
        slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return {"knee": knee["label"], "knee_bytes": knee["model_brotli"], "base_ms": base, "ms_per_mb": slope}


def largest_within(rows: list[dict], profile: str, budget: float) -> dict | None:
    within = [r for r in rows if r["first"][profile][0] <= budget]
    return max(within, key=lambda r: r["model_brotli"]) if within else None


def _kb(n: int) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 1e6 else f"{n / 1e3:.1f} KB"


def answer(rows: list[dict], empty: dict) -> list[str]:
    lines = ["| network | empty page | smallest model's page | 100 ms | 300 ms | 1 s | the curve bends at | "
             "beyond it |", "|---|---:|---:|---|---|---|---|---:|"]
    for p in PROFILES:
        cells = []
        for budget in BUDGETS_MS:
            r = largest_within(rows, p, budget)
            cells.append("none" if r is None else f"{r['label']} ({_kb(r['model_brotli'])}, {r['first'][p][0]:,.0f} ms)")
        b = bend(rows, p)
        slope = "-" if b["ms_per_mb"] is None else f"{b['ms_per_mb']:,.0f} ms per MB"
        lines.append(f"| {p} | {empty[p][0]:,.0f} ms | {b['base_ms']:,.0f} ms | {' | '.join(cells)} | "
                     f"{b['knee']} ({_kb(b['knee_bytes'])}) | {slope} |")
    return lines


def table(rows: list[dict]) -> list[str]:
    lines = ["| model | params | test accuracy | runtime | ONNX file | model, brotli | before the first answer, brotli "
             "| first visit, brotli | " + " | ".join(f"first answer: {p}" for p in PROFILES) + " | on screen (localhost) |",
             "|---|---:|---:|---|---:|---:|---:|---:|" + "---:|" * len(PROFILES) + "---:|"]
    for r in sorted(rows, key=lambda r: r["model_brotli"]):
        runtime = r["runtime"] if r["runtime"] == "compiled" else f"{r['runtime']} ({r['reason']})"
        shown = r["first"]["localhost"][1]
        lines.append(f"| {r['label']} | {r['params']:,} | {100 * r['accuracy']:.2f}% | {runtime} | {r['onnx_bytes']:,} B "
                     f"| {r['model_brotli']:,} B | {r['first_answer_brotli']:,} B | {r['first_visit_brotli']:,} B | "
                     + " | ".join(f"{r['first'][p][0]:,.0f} ms" for p in PROFILES)
                     + f" | {'-' if shown is None else f'{shown:,.0f} ms'} |")
    return lines


def plot(rows: list[dict], empty: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    ordered = sorted(rows, key=lambda r: r["model_brotli"])
    for p, color in zip(PROFILES, ("tab:blue", "tab:orange", "tab:red", "tab:green")):
        ax.plot([r["model_brotli"] for r in ordered], [r["first"][p][0] for r in ordered], "o-", color=color,
                label=f"{p} ({timing.PROFILES[p].description})")
        ax.axhline(empty[p][0], color=color, linestyle=":", linewidth=1)
    for budget in BUDGETS_MS:
        ax.axhline(budget, color="grey", linewidth=0.6)
        ax.text(ordered[0]["model_brotli"], budget * 1.04, f"{budget} ms", color="grey", fontsize=8)
    ax.set(xscale="log", yscale="log", xlabel="model bytes in the page (brotli)",
           ylabel="time to first answer in the page (ms, median)",
           title="First answer against model size; dotted: the empty page on the same network")
    ax.grid(True, which="both", alpha=0.25)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=ROOT / "out" / "ladder")
    parser.add_argument("--contexts", type=int, default=3, help="fresh contexts per page and network (median)")
    parser.add_argument("--epochs", type=int, default=1, help="training epochs of each rung")
    parser.add_argument("--rungs", default=",".join(RUNGS))
    parser.add_argument("--prepare-only", action="store_true",
                        help="train, optimize and bundle every rung, time nothing (a later run times them)")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    start, load_before = time.perf_counter(), os.getloadavg()[0]
    built = [page for spec in args.rungs.split(",") if spec for page in pages(spec, args.work, args.epochs)]
    prepared = time.perf_counter() - start
    if args.prepare_only:
        print(f"prepared {len(built)} pages in {prepared / 60:.1f} min under {args.work}")
        return
    rows = []
    with chromium() as browser:
        version = browser.version
        floor = timing.empty_page(args.work / "empty")
        before = time_page(browser, floor, "", args.contexts)
        for label, facts, folder in built:
            print(f"timing {label} ...", flush=True)
            rows.append({"label": label, **facts,
                         "first": time_page(browser, folder, facts["variant"], args.contexts)})
        after = time_page(browser, floor, "", args.contexts)
    empty = {p: [statistics.fmean([before[p][0], after[p][0]])] for p in PROFILES}
    run = {"rows": rows, "empty": {"before": before, "after": after}, "load": [load_before, os.getloadavg()[0]],
           "chromium": version, "seconds": time.perf_counter() - start, "prepared_s": prepared}
    atomic.write_text(ROOT / "bench" / "model_ladder.json", json.dumps(run, indent=1) + "\n")
    DOCS.mkdir(parents=True, exist_ok=True)
    plot(rows, empty, DOCS / "first-answer-vs-model-bytes.png")
    command = f"python bench/model_ladder.py --contexts {args.contexts} --epochs {args.epochs}" + (
        f" --rungs {args.rungs}" if args.rungs != ",".join(RUNGS) else "")
    lines = [
        "# How large can a model in a web page get before the user feels it? (bench/model_ladder.py)", "",
        f"`{command}` on {platform.node()} ({os.cpu_count()} cores, shared with other jobs: 1-minute load average "
        f"{load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end), Chromium {version}. "
        f"Took {run['seconds'] / 60:,.1f} min ({prepared / 60:,.1f} min training, optimizing and bundling).", "",
        "Every rung is one `edgeshrink train` architecture trained for "
        f"{args.epochs} epoch(s), as a float page and, through `fast`, an int8 page; each page holds that one model "
        "(compiled runtime, `edgeshrink serve`, brotli). First answer: the page's own timestamp once the digit is "
        f"classified, median of {args.contexts} fresh browser contexts (empty cache) per network; 4g = 9 Mbit/s "
        "and 100 ms round trips, slow-4g = 1.6 Mbit/s and 150 ms, cpu4x = no throttling of the network, the CPU "
        "slowed 4x (a mid-range phone). The empty page (one script that reports its time) was timed before and "
        "after the ladder; its mean is the floor the browser sets. Accuracy is on the 10,000 MNIST test images; "
        "short training makes the small rungs weak, which does not change what their bytes cost the page.", "",
        *machine.markdown(),
        "## The answer", "",
        "The largest model whose first answer came within each budget, and where the curve bends: the largest "
        "model whose first answer is within 20% (at least 20 ms) of the smallest model's page; up to there the "
        "model's bytes hardly matter, beyond it each megabyte costs what the last column says (least squares "
        "over the larger models).", "",
        *answer(rows, empty), "",
        "![first answer against model bytes](first-answer-vs-model-bytes.png)", "",
        "## Every page", "", *table(rows), "",
        "Empty page, before and after the ladder: "
        + ", ".join(f"{p} {before[p][0]:,.0f} / {after[p][0]:,.0f} ms" for p in PROFILES) + ".", "",
    ]
    atomic.write_text(DOCS / "ladder.md", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
