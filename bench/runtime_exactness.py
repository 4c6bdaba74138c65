"""The compiled runtime against onnxruntime on all 10,000 MNIST test images.

For each model: run the recipe's passes (no per-step evaluation), compile the result, run every test
image through the wasm in Node, one image at a time, and compare with onnxruntime (Python, CPU) run one
image at a time too (dynamic quantization finds its ranges per run, so the batch would change them).
int8 models must be bit-identical; float models must predict the same classes.

    python bench/runtime_exactness.py [--recipes fast,dynamic] [--lenet] [--out bench/runtime_exactness.md]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import machine  # noqa: E402  (bench/machine.py)

from edgeshrink import api, inference  # noqa: E402
from edgeshrink import data as mnist
from edgeshrink import recipe as recipes
from edgeshrink.core.model import with_signature  # noqa: E402
from edgeshrink.errors import EdgeshrinkError  # noqa: E402
from edgeshrink.passes.base import PassContext  # noqa: E402
from edgeshrink.runtime import UnsupportedModel, compile_model  # noqa: E402
from edgeshrink.runtime.node import node_latency_ms, run_images  # noqa: E402
from edgeshrink.runtime.wasm import feed_images  # noqa: E402
from edgeshrink.size import measure  # noqa: E402

PEERS = ROOT.parent / "shared" / "peers"
LENET_EPOCHS = 2  # fewer than `edgeshrink train`'s default: the machine is shared; exactness does not need more


def apply_recipe(proto: onnx.ModelProto, signature, name: str, train) -> onnx.ModelProto:
    """The model after every pass of recipe `name` (what `optimize` writes, without its measurements)."""
    model = with_signature(proto, signature)
    for step in recipes.load(name).steps:
        model = step.spec.run(model, step.config, PassContext(signature, train, seed=0))
    return with_signature(model, signature)


def check(model: onnx.ModelProto, signature, test) -> dict:
    """Compile, run all test images in Node and in onnxruntime, compare."""
    start = time.perf_counter()
    try:
        compiled = compile_model(model, signature)
    except UnsupportedModel as exc:
        return {"reason": str(exc)}
    seconds = time.perf_counter() - start
    got = run_images(compiled, feed_images(signature, test.images))
    sess = inference.session(model)
    want = np.concatenate([inference.scores(sess, signature, test.images[i:i + 1]) for i in range(len(test))])
    want = want.astype(np.float32)
    wasm = measure(compiled.files["model.wasm"])
    return {
        "int8": compiled.exact,  # int8 arithmetic where it runs (int8 weights folded to float run float)
        "identical": int((got.view(np.uint32) == want.view(np.uint32)).all(axis=1).sum()),
        "same_class": int((got.argmax(1) == want.argmax(1)).sum()),
        "max_diff": float(np.abs(got - want).max()),
        "wasm": wasm.raw, "brotli": wasm.brotli, "compile_s": seconds,
        "node_ms": float(np.median(node_latency_ms(compiled, signature, test.images, 300))),
    }


def row(name: str, recipe: str, r: dict, n: int) -> str:
    if "reason" in r:
        return f"| {name} | {recipe} | falls back: {r['reason']} | | | | | |"
    verdict = ("bit-identical" if r["identical"] == n else "NOT bit-identical") if r["int8"] else \
        ("same classes" if r["same_class"] == n else "CLASSES DIFFER")
    return (f"| {name} | {recipe} | {'int8' if r['int8'] else 'float'}: {verdict} | {r['identical']:,} | "
            f"{r['same_class']:,} | {r['max_diff']:.2e} | {r['wasm']:,} / {r['brotli']:,} | {r['node_ms']:.3f} |")


def lenet(train) -> tuple[onnx.ModelProto, object]:
    from edgeshrink import zoo

    path = Path("/tmp/edgeshrink-bench-lenet5.onnx")
    zoo.export(zoo.train("lenet5", replace(zoo.default_config("lenet5"), epochs=LENET_EPOCHS)), path)
    opened = api.open_model(path)
    return opened.model, opened.detection


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipes", default="fast,dynamic")
    parser.add_argument("--lenet", action="store_true", help="also a LeNet-5 trained here, with fast and default")
    parser.add_argument("--out", default=str(ROOT / "bench" / "runtime_exactness.md"))
    args = parser.parse_args()
    test, train = mnist.load("test"), mnist.load("train")
    models = [(p.stem, opened.model, opened.detection) for p in sorted(PEERS.glob("*.onnx"))
              for opened in [api.open_model(p)]]
    runs = [(name, r, proto, found.signature) for name, proto, found in models for r in ["input", *args.recipes.split(",")]]
    lines = [f"# Compiled runtime vs onnxruntime on all {len(test):,} MNIST test images", "",
             f"`python bench/runtime_exactness.py --recipes {args.recipes}{' --lenet' if args.lenet else ''}`"
             " (scores compared as float32 bits with exact int8 arithmetic in Python; Node per-digit median over 300"
             " runs, machine shared with other jobs)", "", *machine.markdown(),
             "| model | recipe | result | bit-identical | same class | max score diff | wasm bytes / brotli | Node ms/digit |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    if args.lenet:  # trained last, so the peers' rows come first on a busy machine
        runs.append(("lenet5", None, None, None))
    for name, recipe, proto, signature in runs:
        if recipe is None:
            proto, found = lenet(train)
            runs += [("lenet5", r, proto, found.signature) for r in ("input", "fast", "default")]
            continue
        try:
            model = proto if recipe == "input" else apply_recipe(proto, signature, recipe, train)
        except EdgeshrinkError as exc:  # the recipe itself stops on this model: nothing to compile
            lines.append(f"| {name} | {recipe} | recipe stops: {exc} | | | | | |")
        else:
            lines.append(row(name, recipe, check(model, signature, test), len(test)))
        print(lines[-1], flush=True)
        Path(args.out).write_text("\n".join(lines) + "\n")  # written as it goes: a long run leaves its rows


if __name__ == "__main__":
    main()
