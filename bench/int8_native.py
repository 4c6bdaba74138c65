"""onnxruntime's default int8 kernels on a CPU without VNNI, with and without `quantize.reduce_range`.

A LeNet-5 from `edgeshrink train --arch lenet5` (or --model) goes through each recipe twice, with full-range
int8 weights and with reduce_range (weights within [-64, 64]). For each final model: the exact int8 accuracy
edgeshrink reports (report.json), and the classes onnxruntime's default session gives on all 10,000 test
images on a CPU whose int8 kernels add pairs of uint8 x int8 products into a saturating int16 (AVX2 without
VNNI). This machine may have VNNI, so that part runs in this same script under QEMU user-mode emulation of a
Haswell, after checking that onnxruntime caps there (255 * 127 * 2 must come out as 32,767).

    python bench/int8_native.py [--model lenet5.onnx] [--work /tmp/int8bench] [--out bench/int8_native.md]
                                [--recipes default,max]

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
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QEMU = "/usr/bin/qemu-x86_64"
EMULATED_CPU = "Haswell-noTSX,-pcid,-x2apic,-tsc-deadline,-invpcid"  # AVX2, no VNNI; no TCG warnings
RECIPES = ("default", "max")
REDUCE = "quantize.reduce_range=true"
HOST_FLAGS = ("avx2", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni")
CPU_FEATURES = ("AVX2", "AVX512F", "AVX512BW", "AVX512VNNI", "AVXVNNI")  # numpy's names: what cpuid reports
CAPPED, EXACT = 32767, 255 * 127 * 2
# The int8 weight input of each layer form the quantizer writes (through a DequantizeLinear for the float ops).
WEIGHT_INPUT = {"Conv": 1, "MatMul": 1, "Gemm": 1, "ConvInteger": 1, "MatMulInteger": 1,
                "QLinearConv": 3, "QLinearMatMul": 3}


# ---- inside the emulated process ----

def cap_probe() -> int:
    """MatMulInteger of activations [255, 255] and int8 weights [[127], [127]] in a default session."""
    import onnxruntime as ort

    graph = helper.make_graph([helper.make_node("MatMulInteger", ["x", "w"], ["y"])], "cap",
                              [helper.make_tensor_value_info("x", TensorProto.UINT8, [1, 2])],
                              [helper.make_tensor_value_info("y", TensorProto.INT32, [1, 1])],
                              [numpy_helper.from_array(np.full((2, 1), 127, np.int8), "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return int(sess.run(None, {"x": np.full((1, 2), 255, np.uint8)})[0].item())


def cpu_features() -> list[str]:
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as found
    except ImportError:  # numpy 1.x
        from numpy.core._multiarray_umath import __cpu_features__ as found
    return [name for name in CPU_FEATURES if found.get(name)]


def emulated_main(result: Path, models: list[Path]) -> None:
    """Default-session predictions of every model on the 10,000 test images, written beside `result`."""
    import onnxruntime as ort

    from edgeshrink import data as mnist
    from edgeshrink.inference import predict
    from edgeshrink.model import stored_signature

    info = {"cap": cap_probe(), "cpu_features": cpu_features(), "onnxruntime": ort.__version__, "predictions": {}}
    if info["cap"] == CAPPED:
        test = mnist.load("test")
        for path in models:
            start = time.perf_counter()
            model = onnx.load(str(path))
            opts = ort.SessionOptions()  # the defaults, but one thread: the machine is shared (same kernels)
            opts.intra_op_num_threads = 1
            sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
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


def optimize(model: Path, recipe: str, reduced: bool, work: Path) -> Path:
    """The run folder of `recipe` on `model`, reused if an earlier run had the same input and overrides."""
    from edgeshrink import api

    folder = work / f"{recipe}-{'reduced' if reduced else 'full'}"
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
    inits = {init.name: init for init in model.graph.initializer}
    producer = {out: node for node in model.graph.node for out in node.output}
    found = []
    for node in model.graph.node:
        index = WEIGHT_INPUT.get(node.op_type)
        if index is None or len(node.input) <= index:
            continue
        name = node.input[index]
        if name in producer and producer[name].op_type == "DequantizeLinear":
            name = producer[name].input[0]
        if name in inits and inits[name].data_type == TensorProto.INT8:
            found.append(int(np.abs(numpy_helper.to_array(inits[name]).astype(np.int16)).max()))
    return max(found) if found else None


def run_emulated(models: list[Path], work: Path) -> dict:
    result = work / "emulated.json"
    result.unlink(missing_ok=True)
    cmd = [QEMU, "-cpu", EMULATED_CPU, sys.executable, str(Path(__file__).resolve()), "--emulated", str(result),
           *map(str, models)]
    subprocess.run(cmd, check=True, cwd=ROOT)
    info = json.loads(result.read_text())
    if info["cap"] != CAPPED:
        sys.exit(f"onnxruntime {info['onnxruntime']} under `qemu-x86_64 -cpu {EMULATED_CPU}` does not cap: "
                 f"MatMulInteger gave {info['cap']:,} for [255, 255] x [[127], [127]] (capped: {CAPPED:,}, exact: "
                 f"{EXACT:,}); nothing measured")
    return info


def step_before_quantize(folder: Path) -> Path | None:
    steps = sorted(folder.glob("[0-9][0-9]-*.onnx"))
    names = [p.name.split("-", 1)[1] for p in steps]
    return steps[names.index("quantize.onnx") - 1] if "quantize.onnx" in names else None


def measure(folder: Path, native: np.ndarray, test) -> dict:
    from edgeshrink import inference
    from edgeshrink.pipeline import FINAL_FILE, PipelineReport

    report = PipelineReport.read(folder)
    final = report.final_evaluation
    model = onnx.load(str(folder / FINAL_FILE))
    exact = inference.predict(inference.session(model), final.signature, test.images)
    return {"completed": report.completed, "steps": [s.name for s in report.steps],
            "accuracy": final.accuracy, "recomputed": float((exact == test.labels).mean()),
            "native": float((native == test.labels).mean()), "differing": int((native != exact).sum()),
            "gzip": final.size.gzip, "largest": largest_weight(model), "engine": final.engine,
            "baseline": report.baseline.accuracy, "seconds": (folder.with_suffix(".seconds")).read_text()}


def pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def table(rows: dict) -> list[str]:
    lines = ["| recipe | reduce_range | int8 weights within | gzip bytes | exact int8 accuracy (report.json) | "
             "onnxruntime default, no VNNI | classes differing from exact | reduce_range cost (exact) |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for (recipe, reduced), r in rows.items():
        full = rows[(recipe, False)]
        cost = f"{100 * (r['accuracy'] - full['accuracy']):+.2f} pt" if reduced else ""
        within = f"±{r['largest']}" if r["largest"] is not None else "no int8 weights"
        done = "" if r["completed"] else " (stopped: over budget)"
        lines.append(f"| {recipe}{done} | {str(reduced).lower()} | {within} | {r['gzip']:,} | {pct(r['accuracy'])} | "
                     f"{pct(r['native'])} | {r['differing']:,} | {cost} |")
    return lines


def host_cpu() -> tuple[str, list[str]]:
    out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    flags = fields.get("Flags", "").split()
    return fields.get("Model name", "?").strip(), [f for f in HOST_FLAGS if f in flags]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a float MNIST model (default: train a LeNet-5 into --work)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/int8bench"))
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "int8_native.md")
    parser.add_argument("--recipes", default=",".join(RECIPES), help="comma-separated recipe names")
    parser.add_argument("--emulated", nargs="+", help=argparse.SUPPRESS)  # RESULT MODEL...: the emulated part
    args = parser.parse_args()
    if args.emulated:
        return emulated_main(Path(args.emulated[0]), [Path(p) for p in args.emulated[1:]])

    from edgeshrink import data as mnist
    from edgeshrink import engine

    command = "python bench/int8_native.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    args.work.mkdir(parents=True, exist_ok=True)
    model = args.model or train(args.work)
    recipes = args.recipes.split(",")
    folders = {}
    for recipe in recipes:
        for reduced in (False, True):
            print(f"{recipe}, reduce_range {str(reduced).lower()} ...", flush=True)
            folders[(recipe, reduced)] = optimize(model, recipe, reduced, args.work)
    finals = {key: args.work / f"{folder.name}.onnx" for key, folder in folders.items()}
    for key, path in finals.items():  # copies with plain names for the emulated process
        path.write_bytes((folders[key] / "model.opt.onnx").read_bytes())
    start = time.perf_counter()
    info = run_emulated(list(finals.values()), args.work)
    emulated_s = time.perf_counter() - start
    test = mnist.load("test")
    rows = {key: measure(folders[key], np.load(info["predictions"][str(path)]["file"]), test)
            for key, path in finals.items()}

    lines = table(rows)
    print("\n".join(lines))
    cpu_model, flags = host_cpu()
    baseline = rows[(recipes[0], False)]["baseline"]
    notes = []
    for recipe in recipes:
        before = [step_before_quantize(folders[(recipe, r)]) for r in (False, True)]
        same = all(before) and digest(before[0]) == digest(before[1])
        notes.append(f"- `{recipe}`: steps {', '.join(rows[(recipe, False)]['steps'])}; the float model quantize "
                     f"started from was {'byte-identical' if same else 'NOT identical'} in both runs, so the "
                     f"difference is quantize's; optimize took {rows[(recipe, False)]['seconds']} s and "
                     f"{rows[(recipe, True)]['seconds']} s.")
    mismatched = [f"{k[0]}/{k[1]}" for k, r in rows.items() if abs(r["recomputed"] - r["accuracy"]) > 1e-9]
    text = [
        "# onnxruntime's default int8 kernels without VNNI, with and without reduce_range", "",
        f"`{command}`", "",
        f"Input: `{model.name}` ({'given by --model' if args.model else 'from `edgeshrink train --arch lenet5`'}), "
        f"{pct(baseline)} float "
        f"on all {len(test):,} MNIST test images. Each recipe ran twice through `edgeshrink.api.optimize` with the "
        f"default budget (0.5 points), once with `--set {REDUCE}`.", "",
        *lines, "",
        "- *exact int8 accuracy*: report.json's final model, computed by "
        f"{rows[(recipes[0], False)]['engine']} (recomputed here: "
        f"{'the same on every row' if not mismatched else 'DIFFERENT for ' + ', '.join(mismatched)}).",
        "- *onnxruntime default, no VNNI*: `onnxruntime.InferenceSession(model)` with its default options (one "
        f"thread) under `qemu-x86_64 -cpu {EMULATED_CPU}`, in batches of 1,000; *classes differing*: test images "
        "whose predicted class differs from the exact arithmetic's.",
        "- *int8 weights within*: the largest |int8 code| of any weight feeding a Conv/MatMul/Gemm.",
        *notes, "",
        f"Host CPU: {cpu_model}; int8 flags: {', '.join(flags) or 'none'} (lscpu). "
        f"edgeshrink's engine here: {engine.current().int8}.",
        f"Emulated CPU: QEMU user mode `-cpu {EMULATED_CPU}`; cpuid features seen inside: "
        f"{', '.join(info['cpu_features']) or 'none'} of {', '.join(CPU_FEATURES)}. Cap check inside: MatMulInteger "
        f"[255, 255] x [[127], [127]] gave {info['cap']:,} (exact {EXACT:,}). "
        f"{len(finals)} models x {len(test):,} images took {emulated_s:.0f} s emulated.",
        f"onnxruntime {info['onnxruntime']}; Python {sys.version.split()[0]}; "
        f"{datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}.", "",
    ]
    args.out.write_text("\n".join(text))


if __name__ == "__main__":
    main()
