"""onnxruntime's default int8 kernels on a CPU without VNNI, with and without `quantize.reduce_range`.

A LeNet-5 from `edgeshrink train --arch lenet5` (or --model) goes through each recipe twice, with full-range
int8 weights and with reduce_range (weights within [-64, 64]). For each final model: the exact int8 accuracy
edgeshrink reports (report.json), and the classes onnxruntime's default session gives on all 10,000 test
images on a CPU whose int8 kernels add pairs of uint8 x int8 products into a saturating int16 (AVX2 without
VNNI). This machine may have VNNI, so that part runs in this same script under QEMU user-mode emulation of a
Haswell, after edgeshrink's probe (edgeshrink/engine/probe.py) found that onnxruntime caps sums there. With --peers,
the models of ../shared/peers go through `fast` the same two ways. A run whose
quantize step broke the budget ends on the float model before it; its int8 model gets a row of its own.

    python bench/int8_native.py [--model lenet5.onnx] [--work /tmp/int8bench] [--out bench/int8_native.md]
                                [--recipes default,max] [--peers]

Needs only this venv and qemu-user (/usr/bin/qemu-x86_64). Runs are kept in --work and reused when their
input model and overrides are unchanged; `max` takes several minutes per run.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import machine  # noqa: E402  (bench/machine.py)

QEMU = "/usr/bin/qemu-x86_64"
EMULATED_CPU = "Haswell-noTSX,-pcid,-x2apic,-tsc-deadline,-invpcid"  # AVX2, no VNNI; no TCG warnings
RECIPES = ("default", "max")
PEERS = ROOT.parent / "shared" / "peers"
REDUCE = "quantize.reduce_range=true"

# ---- inside the emulated process ----

def emulated_main(result: Path, models: list[Path]) -> None:
    """Default-session predictions of every model on the 10,000 test images, written beside `result`."""
    from edgeshrink import data as mnist
    from edgeshrink import engine
    from edgeshrink.core.model import stored_signature
    from edgeshrink.inference import predict, session

    found = engine.current()  # its probe: do onnxruntime's default int8 kernels cap sums on this (emulated) CPU?
    info = {"engine": found.to_dict(), "predictions": {}}
    if found.capped:
        test = mnist.load("test")
        for path in models:
            start = time.perf_counter()
            model = onnx.load(str(path))
            sess = session(model, threads=1, native=True)  # the defaults, one thread: the machine is shared
            target = path.with_suffix(".native.npy")
            np.save(target, predict(sess, stored_signature(model), test.images))  # chunks of 1,000
            info["predictions"][str(path)] = {"file": str(target), "seconds": time.perf_counter() - start}
    result.write_text(json.dumps(info, indent=1))


# ---- on the host ----

def train(work: Path) -> Path:
    path = work / "lenet5.onnx"
    if not path.exists():
        subprocess.run([sys.executable, "-m", "edgeshrink", "train", "--arch", "lenet5", "-o", str(path)],
                       check=True, cwd=ROOT)
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def optimize(model: Path, recipe: str, reduced: bool, work: Path, tag: str) -> Path:
    """The run folder of `recipe` on `model`, reused if an earlier run had the same input and overrides."""
    from edgeshrink import api

    folder = work / f"{tag.replace(' ', '-')}-{'reduced' if reduced else 'full'}"
    stamp = folder.with_suffix(".stamp")
    key = json.dumps({"model": digest(model), "recipe": recipe, "overrides": [REDUCE] if reduced else []})
    if (folder / "report.json").exists() and stamp.exists() and stamp.read_text() == key:
        return folder
    start = time.perf_counter()
    api.optimize(model, recipe, [REDUCE] if reduced else [], output=folder, force=True)
    stamp.write_text(key)
    (folder.with_suffix(".seconds")).write_text(f"{time.perf_counter() - start:.0f}")
    return folder


def largest_weight(model: onnx.ModelProto) -> int | None:
    """The largest |code| of the int8 initializers feeding a layer's weight input, None if there are none."""
    from edgeshrink.passes.quantize.surgery import int8_weights

    codes = [int(np.abs(w.astype(np.int16)).max()) for w in int8_weights(model).values()]
    return max(codes) if codes else None


def run_emulated(models: list[Path], work: Path) -> dict:
    result = work / "emulated.json"
    result.unlink(missing_ok=True)
    cmd = [QEMU, "-cpu", EMULATED_CPU, sys.executable, str(Path(__file__).resolve()), "--emulated", str(result),
           *map(str, models)]
    subprocess.run(cmd, check=True, cwd=ROOT)
    info = json.loads(result.read_text())
    if not info["engine"]["capped"]:
        sys.exit(f"onnxruntime {info['engine']['onnxruntime']} under `qemu-x86_64 -cpu {EMULATED_CPU}` does not cap "
                 "sums on edgeshrink's probe; nothing measured")
    return info


def step_before_quantize(folder: Path) -> Path | None:
    steps = sorted(folder.glob("[0-9][0-9]-*.onnx"))
    names = [p.name.split("-", 1)[1] for p in steps]
    return steps[names.index("quantize.onnx") - 1] if "quantize.onnx" in names else None


def candidates(folder: Path) -> list[tuple[str, Path, object]]:
    """(label, file, Evaluation) to measure: the final model, and the quantize step's when it broke the budget
    (the final model is then float, and the int8 one is what a user keeping it would deploy)."""
    from edgeshrink.pipeline import FINAL_FILE, PipelineReport

    report = PipelineReport.read(folder)
    found = [(FINAL_FILE, folder / FINAL_FILE, report.final_evaluation)]
    stopped = report.steps[report.stopped_at - 1] if report.stopped_at else None
    if stopped is not None and stopped.name == "quantize":
        found.append((f"{stopped.file} (over budget)", folder / stopped.file, stopped.evaluation))
    return found


def measure(model_path: Path, evaluation, native: np.ndarray, test) -> dict:
    from edgeshrink import inference

    model = onnx.load(str(model_path))
    exact = inference.predict(inference.session(model), evaluation.signature, test.images)
    return {"accuracy": evaluation.accuracy, "recomputed": float((exact == test.labels).mean()),
            "native": float((native == test.labels).mean()), "differing": int((native != exact).sum()),
            "gzip": evaluation.size.gzip, "largest": largest_weight(model), "engine": evaluation.engine}


def pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def table(rows: list[dict]) -> list[str]:
    lines = ["| recipe | reduce_range | model | int8 weights within | gzip bytes | exact int8 accuracy (report.json) | "
             "onnxruntime default, no VNNI | classes differing from exact |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        within = f"±{r['largest']}" if r["largest"] is not None else "float (no int8 weights)"
        lines.append(f"| {r['recipe']} | {str(r['reduced']).lower()} | {r['label']} | {within} | {r['gzip']:,} | "
                     f"{pct(r['accuracy'])} | {pct(r['native'])} | {r['differing']:,} |")
    return lines


def cost_table(folders: dict, recipes: list[str]) -> list[str]:
    """reduce_range's cost where it acts: the quantize step's model, full range against reduced."""
    from edgeshrink.pipeline import PipelineReport

    lines = ["| recipe | quantize step, full range | quantize step, reduce_range | accuracy cost (exact) | "
             "run with reduce_range |", "|---|---:|---:|---:|---|"]
    for recipe in recipes:
        reports = [PipelineReport.read(folders[(recipe, r)]) for r in (False, True)]
        steps = [next(s for s in rep.steps if s.name == "quantize").evaluation for rep in reports]
        cells = [f"{pct(e.accuracy)}, {e.size.gzip:,} B" for e in steps]
        outcome = "completed" if reports[1].completed else f"stopped at step {reports[1].stopped_at}: over budget"
        lines.append(f"| {recipe} | {cells[0]} | {cells[1]} | {100 * (steps[1].accuracy - steps[0].accuracy):+.2f} pt "
                     f"| {outcome} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a float MNIST model (default: train a LeNet-5 into --work)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/int8bench"))
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "int8_native.md")
    parser.add_argument("--recipes", default=",".join(RECIPES), help="comma-separated recipe names")
    parser.add_argument("--peers", action="store_true", help="also the models of ../shared/peers through `fast`")
    parser.add_argument("--emulated", nargs="+", help=argparse.SUPPRESS)  # RESULT MODEL...: the emulated part
    args = parser.parse_args()
    if args.emulated:
        return emulated_main(Path(args.emulated[0]), [Path(p) for p in args.emulated[1:]])

    from edgeshrink import data as mnist
    from edgeshrink import engine
    from edgeshrink.pipeline import PipelineReport

    command = " ".join(["python bench/int8_native.py", *map(shlex.quote, sys.argv[1:])])
    args.work.mkdir(parents=True, exist_ok=True)
    model = args.model or train(args.work)
    jobs = [(recipe, model, recipe) for recipe in args.recipes.split(",")]  # (tag, input, recipe)
    if args.peers:
        jobs += [(f"{peer.stem} fast", peer, "fast") for peer in sorted(PEERS.glob("*.onnx"))]
    recipes = [tag for tag, _, _ in jobs]
    folders = {}
    for tag, source, recipe in jobs:
        for reduced in (False, True):
            print(f"{tag}, reduce_range {str(reduced).lower()} ...", flush=True)
            folders[(tag, reduced)] = optimize(source, recipe, reduced, args.work, tag)
    entries = []  # (recipe, reduced, label, copy for the emulated process, Evaluation)
    for (recipe, reduced), folder in folders.items():
        for index, (label, path, evaluation) in enumerate(candidates(folder)):
            copy = args.work / f"{folder.name}-{index}.onnx"
            copy.write_bytes(path.read_bytes())
            entries.append((recipe, reduced, label, copy, evaluation))
    start = time.perf_counter()
    info = run_emulated([entry[3] for entry in entries], args.work)
    emulated_s = time.perf_counter() - start
    test = mnist.load("test")
    rows = [{"recipe": recipe, "reduced": reduced, "label": label,
             **measure(copy, evaluation, np.load(info["predictions"][str(copy)]["file"]), test)}
            for recipe, reduced, label, copy, evaluation in entries]

    lines = table(rows)
    costs = cost_table(folders, recipes)
    print("\n".join([*lines, "", *costs]))
    baseline = PipelineReport.read(folders[(recipes[0], False)]).baseline.accuracy
    notes = []
    for recipe in recipes:
        before = [step_before_quantize(folders[(recipe, r)]) for r in (False, True)]
        same = all(before) and digest(before[0]) == digest(before[1])
        steps = ", ".join(s.name for s in PipelineReport.read(folders[(recipe, False)]).steps)
        seconds = [folders[(recipe, r)].with_suffix(".seconds").read_text() for r in (False, True)]
        notes.append(f"- `{recipe}` ({steps}): the float model quantize started from was "
                     f"{'byte-identical' if same else 'NOT identical'} in both runs, so the differences are "
                     f"quantize's; optimize took {seconds[0]} s and {seconds[1]} s.")
    mismatched = [f"{r['recipe']}/{r['reduced']}/{r['label']}" for r in rows
                  if abs(r["recomputed"] - r["accuracy"]) > 1e-9]
    text = [
        "# onnxruntime's default int8 kernels without VNNI, with and without reduce_range", "",
        f"`{command}`", "",
        f"Input: `{model.name}` ({'given by --model' if args.model else 'from `edgeshrink train --arch lenet5`'}), "
        f"{pct(baseline)} float on all {len(test):,} MNIST test images. Each recipe ran twice through "
        f"`edgeshrink.api.optimize` with the default budget (0.5 points), once with `--set {REDUCE}`.", "",
        *lines, "",
        *costs, "",
        "- *exact int8 accuracy*: report.json's evaluation of that model, computed by "
        f"{rows[0]['engine']} (recomputed here: "
        f"{'the same on every row' if not mismatched else 'DIFFERENT for ' + ', '.join(mismatched)}).",
        "- *onnxruntime default, no VNNI*: `onnxruntime.InferenceSession(model)` with its default options (one "
        f"thread) under `qemu-x86_64 -cpu {EMULATED_CPU}`, in batches of 1,000; *classes differing*: test images "
        "whose predicted class differs from the exact arithmetic's.",
        "- *int8 weights within*: the largest |int8 code| of any weight feeding a Conv/MatMul/Gemm.",
        "- A run whose quantize step broke the budget keeps the float model before it as model.opt.onnx; its int8 "
        "model is measured too, on its own row.",
        *notes, "",
        "## Host", "", *machine.markdown(),
        f"## Emulated: QEMU user mode `-cpu {EMULATED_CPU}`", "",
        f"Measured with {engine.Engine.from_dict(info['engine']).describe()}. {len(entries)} models x "
        f"{len(test):,} images took {emulated_s:.0f} s emulated; "
        f"{datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}.", "",
    ]
    args.out.write_text("\n".join(text))


if __name__ == "__main__":
    main()
