"""The page in Chromium, both runtimes side by side in one run: the runtime compiled for the model and
onnxruntime-web, for LeNet-5 with `fast`, `default` and `max`, `tiny` with `default` and `small`, `micro` with
`small`, and three shared peer models with `fast`.

For every model it bundles the optimized model alone (`bundle --no-baseline`) once per runtime, then
`verify`s each bundle: all 10,000 test images against onnxruntime in Python, per-digit latency, first-visit
bytes (brotli, as served by `edgeshrink serve`, which sends no COOP/COEP, like most static hosts), and the
time to the first prediction in fresh contexts (median) on localhost, at 9 Mbit/s + 100 ms ("4g"),
1.6 Mbit/s + 150 ms ("slow-4g"), and with the CPU slowed 4x. Writes bench/browser.md (and browser.json)
and the screenshots of the LeNet-5 `max` page (desktop and a 390 px phone).

    python bench/browser.py [--work out/bench] [--contexts 5] [--images 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import machine  # noqa: E402  (bench/machine.py)

from edgeshrink import api, atomic, zoo
from edgeshrink.web import bundle, screenshot, verify
from edgeshrink.web.assemble.variants import from_optimize_output
from edgeshrink.web.check import timing
from edgeshrink.web.check.browser import Watch, chromium
from edgeshrink.web.check.serve import running

ROOT = Path(__file__).resolve().parents[1]
PEERS_DIR = ROOT.parent / "shared" / "peers"
PEERS = ("zoo_mnist8", "keras_mlp_nhwc_raw255", "torch_lenet_bn_batch10")
PROFILES = ("localhost", "4g", "slow-4g", "cpu4x")
RUNTIMES = ("compiled", "ort")
PHONE = 390  # CSS pixels: the phone screenshot's width


def trained(arch: str, work: Path) -> Path:
    """edgeshrink train's defaults for `arch`, trained once and kept in `work`."""
    path = work / f"{arch}.onnx"
    if not path.is_file():
        zoo.export(zoo.train(arch, zoo.default_config(arch)), path, work / f"{arch}.pt")
    return path


def optimized(model: Path, recipe: str, out: Path) -> Path:
    """The `optimize` output folder, made once (a finished report.json means done)."""
    if not (out / "report.json").is_file():
        api.optimize(model, recipe, output=out, max_drop=0.5)
    return out


def plan(work: Path) -> dict[str, callable]:
    """label -> a function making (once) that model's optimize output folder."""
    jobs = {f"LeNet-5 `{r}`": (lambda r=r: optimized(trained("lenet5", work), r, work / r))
            for r in ("fast", "default", "max")}
    jobs["tiny `default`"] = lambda: optimized(trained("tiny", work), "default", work / "tiny.default")
    for arch in ("tiny", "micro"):  # the smallest readers, through the recipe made for them
        jobs[f"{arch} `small`"] = lambda arch=arch: optimized(trained(arch, work), "small", work / f"{arch}.small")
    for peer in PEERS:
        jobs[f"{peer} `fast`"] = lambda peer=peer: optimized(PEERS_DIR / f"{peer}.onnx", "fast", work / f"{peer}.fast")
    return jobs


def measure(label: str, folder: Path, work: Path, browser, images: int, contexts: int) -> dict:
    """Bundle the optimized model once per runtime and verify both bundles; one row of plain data."""
    row = {"model": label}
    for runtime in RUNTIMES:
        slug = folder.name + "." + runtime
        result = bundle(from_optimize_output(folder, baseline=False), work / "dist" / slug, runtime=runtime)
        used, reason = result.runtimes["optimized"]
        check = verify(result.out_dir, images=images, contexts=contexts, profiles=PROFILES, browser=browser).variants[0]
        row[runtime] = {"runtime": used, "reason": reason, "first_visit": result.first_visit["total"]["brotli"],
                        "first_answer_bytes": result.first_visit["first_answer"]["brotli"],
                        "first_visit_parts": {p: result.first_visit[p]["brotli"] for p in ("runtime", "models", "app")},
                        "wire_bytes": check.first_visit_bytes, "latency_ms": check.latency_ms,
                        "latency_ms_cpu4x": check.latency_ms_cpu4x, "first": check.first_prediction_by_profile,
                        "first_shown": check.first_shown_ms,
                        "identical_scores": check.identical_scores, "max_score_diff": check.max_score_diff,
                        "accuracy": check.accuracy, "images": check.images, "dist": str(result.out_dir)}
    return row


def _ms(value) -> str:
    return "-" if value is None else (f"{value:.3f} ms" if value < 10 else f"{value:,.0f} ms")


def _scores(m: dict) -> str:
    if m["identical_scores"] is None:
        return "same classes"
    return "bit-identical" if m["identical_scores"] else f"same classes, max diff {m['max_score_diff']:.1e}"


def table(rows: list[dict]) -> list[str]:
    lines = ["| model | runtime | before the first answer, brotli | first visit, brotli (runtime + model + app) "
             "| per digit | per digit, 4x CPU "
             "| first prediction: localhost | on screen | 4g | slow-4g | 4x CPU | scores vs onnxruntime (10,000) |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for row in rows:
        for wanted in RUNTIMES:
            m = row[wanted]
            parts = m["first_visit_parts"]
            runtime = m["runtime"] if m["runtime"] == wanted else f"{m['runtime']} (fell back: {m['reason']})"
            lines.append(
                f"| {row['model']} | {runtime} | {m.get('first_answer_bytes', 0):,} B | {m['first_visit']:,} B ({parts['runtime']:,} + {parts['models']:,} "
                f"+ {parts['app']:,}) | {_ms(m['latency_ms'])} | {_ms(m['latency_ms_cpu4x'])} | "
                + " | ".join(_ms(m["first"][p]) for p in PROFILES[:1]) + f" | {_ms(m['first_shown'])} | "
                + " | ".join(_ms(m["first"][p]) for p in PROFILES[1:]) + f" | {_scores(m)} |")
    return lines


def speedups(rows: list[dict]) -> list[str]:
    lines = ["| model | per digit: onnxruntime-web / compiled | 4x CPU | first prediction on 4g: onnxruntime-web / compiled |",
             "|---|---:|---:|---:|"]
    for row in rows:
        c, o = row["compiled"], row["ort"]
        if c["runtime"] != "compiled":
            lines.append(f"| {row['model']} | not compiled: {c['reason']} | | |")
            continue
        lines.append(f"| {row['model']} | {o['latency_ms'] / c['latency_ms']:.2f}x | "
                     f"{o['latency_ms_cpu4x'] / c['latency_ms_cpu4x']:.2f}x | {o['first']['4g'] / c['first']['4g']:.1f}x |")
    return lines


def empty_page(browser, work: Path, contexts: int) -> dict:
    """The empty page's medians (timing.EMPTY_PAGE) per profile: the floor the browser sets on this machine."""
    with running(timing.empty_page(work / "empty")) as url:
        return {p: timing.median_first_prediction(browser, url, "", timing.PROFILES[p], Watch(url), contexts)
                for p in PROFILES[:3]}


def floor(empty: dict) -> list[str]:
    cells = [f"{p} {_ms(empty[p][0])}" + (f" (on screen {_ms(empty[p][1])})" if p == "localhost" else "")
             for p in empty]
    return [f"The empty page (one script that reports its time), same run: {', '.join(cells)}.", ""]


def kept_rows(measured: dict, earlier: dict, jobs: dict) -> list[str]:
    """Which rows this run measured and which it kept from an earlier browser.json (the page as it was then)."""
    kept = [label for label in jobs if label not in measured and label in earlier]
    if not kept:
        return []
    return [f"Measured in this run: {', '.join(measured)}. The other rows are kept from an earlier run of this "
            f"script, with the page as it was then ({', '.join(kept)}); their first-answer bytes read 0 where that "
            "run did not count them.", ""]


def targets(rows: list[dict], empty: dict, measured: dict) -> list[str]:
    found = [r for r in rows if r["model"] == "LeNet-5 `max`"]
    tiny = [r["compiled"] for r in rows if r["model"] == "tiny `small`"]
    lines = ([f"- {'met' if tiny[0]['first_answer_bytes'] <= 12_000 else '**not met**'}: tiny `small` before the "
              f"first answer <= 12 KB brotli: {tiny[0]['first_answer_bytes']:,} B"] if tiny
             else ["- tiny `small` was not measured"])
    if not found:
        return [*lines, "- LeNet-5 `max` was not measured"]
    m = found[0]["compiled"]
    faster = [r["model"] for r in rows if r["compiled"]["runtime"] == "compiled"
              and r["compiled"]["latency_ms"] <= r["ort"]["latency_ms"]]
    compiled = [r["model"] for r in rows if r["compiled"]["runtime"] == "compiled"]
    # the empty page of this run: a LeNet-5 `max` row kept from an earlier run is not compared with it
    ratio = m["first"]["localhost"] / empty["localhost"][0] if "LeNet-5 `max`" in measured else float("nan")
    checks = [
        (f"LeNet-5 `max` before the first answer <= 16 KB brotli: {m['first_answer_bytes']:,} B",
         m["first_answer_bytes"] <= 16_000),
        (f"LeNet-5 `max` whole first visit <= 24 KB brotli: {m['first_visit']:,} B", m["first_visit"] <= 24_000),
        (f"first prediction on localhost <= 100 ms: {_ms(m['first']['localhost'])} (on screen: "
         f"{_ms(m['first_shown'])})", m["first"]["localhost"] <= 100),
        (f"first prediction on 4g <= 200 ms: {_ms(m['first']['4g'])}", m["first"]["4g"] <= 200),
        (f"first prediction on slow-4g <= 350 ms: {_ms(m['first']['slow-4g'])}", m["first"]["slow-4g"] <= 350),
        (f"first prediction on localhost within 1.6x the empty page's: {ratio:.2f}x", ratio <= 1.6),
        (f"compiled per-digit latency no worse than onnxruntime-web's: {len(faster)} of {len(compiled)} compiled "
         f"models", len(faster) == len(compiled)),
    ]
    return [f"- {'met' if ok else '**not met**'}: {text}" for text, ok in checks] + lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=ROOT / "out" / "bench")
    parser.add_argument("--contexts", type=int, default=5, help="fresh contexts per profile (median)")
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "browser.md")
    parser.add_argument("--only", action="append", help="measure only these models (by label; repeatable), "
                        "keeping the other rows of an earlier browser.json")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    jobs = plan(args.work)
    labels = args.only or list(jobs)
    saved = args.out.with_suffix(".json")
    earlier = {r["model"]: r for r in json.loads(saved.read_text())} if args.only and saved.is_file() else {}
    with chromium() as browser:
        measured = {label: measure(label, jobs[label](), args.work, browser, args.images, args.contexts)
                    for label in labels}
        version = browser.version
        empty = empty_page(browser, args.work, args.contexts)
        if "LeNet-5 `max`" in labels:
            shot = bundle(from_optimize_output(jobs["LeNet-5 `max`"]()), args.work / "dist" / "screenshot",
                          default="optimized")
            screenshot(shot.out_dir, ROOT / "docs" / "screenshot.png", model="optimized", browser=browser)
            screenshot(shot.out_dir, ROOT / "docs" / "screenshot-phone.png", model="optimized", width=PHONE,
                       browser=browser)
    rows = [measured.get(label) or earlier[label] for label in jobs if label in measured or label in earlier]
    atomic.write_text(saved, json.dumps(rows, indent=1) + "\n")
    lines = [
        "# The page in Chromium: compiled runtime vs onnxruntime-web", "",
        f"`python bench/browser.py --contexts {args.contexts} --images {args.images}` "
        f"{' '.join(f'--only {chr(39)}{label}{chr(39)}' for label in args.only or [])} on {platform.node()} "
        f"({os.cpu_count()} cores, shared with other jobs: compare the two runtimes row by row, measured side by "
        f"side in one run), Chromium {version}, one thread, served by `edgeshrink serve` (brotli; no COOP/COEP, "
        "as most static hosts serve it). "
        f"Took {time.perf_counter() - start:,.0f} s.", "",
        "Each model is bundled alone (`--no-baseline`) once per runtime. First visit: the bytes (brotli) of "
        "everything the page loads for its first prediction and its gallery, as `bundle` counts them. First "
        f"prediction: median of {args.contexts} fresh browser contexts from navigation start to the page's own "
        "timestamp once the answer is in the page, awaited through the DevTools protocol so that nothing is "
        "injected into the page while it loads; on screen: to the frame that showed that answer (Chromium's "
        "Element Timing, same contexts), which on this machine (no GPU: software compositing) comes tens of "
        "milliseconds later. Scores: all test "
        "images classified in the page and compared with exact int8 arithmetic in Python (see below).", "",
        *machine.markdown(),
        *kept_rows(measured, earlier, jobs), *floor(empty), *table(rows), "", "## Compiled against onnxruntime-web", "", *speedups(rows), "",
        "## Targets (issue 24)", "", *targets(rows, empty, measured), "",
    ]
    atomic.write_text(args.out, "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
