"""Per-digit latency of the compiled runtime against onnxruntime-web, side by side in one Node process.

Both run the same model on the same 50 real test digits, one digit per call, alternating three rounds
of 300 calls (medians per round). Node stands in for the browser here; bench/browser.py measures Chromium.

    python bench/runtime_speed.py [--peers zoo_mnist8,...] [--recipes input,fast] [--out bench/runtime_speed.md]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import machine  # noqa: E402  (bench/machine.py)

from edgeshrink import api  # noqa: E402
from edgeshrink import data as mnist
from edgeshrink.runtime import compile_model  # noqa: E402
from edgeshrink.runtime.wasm import feed_images  # noqa: E402
from edgeshrink.web.assemble.ortweb import ensure_runtime  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from runtime_exactness import PEERS, apply_recipe  # noqa: E402


def measure(proto: onnx.ModelProto, sig, ort_dist: Path) -> list[list[float]]:
    compiled = compile_model(proto, sig)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name, data in compiled.files.items():
            (tmp / name).write_bytes(data)
        x = feed_images(sig, mnist.load("test").images[:50])
        batch = max(sig.batch or 1, 1)
        np.repeat(x, batch, axis=0).tofile(tmp / "inputs.bin")  # onnxruntime-web needs a fixed batch filled
        onnx.save(proto, str(tmp / "model.onnx"))
        cmd = ["node", str(ROOT / "bench" / "runtime_speed.mjs"), str(ort_dist), str(tmp / "model.onnx"),
               str(tmp / compiled.entry), str(tmp / "model.wasm"), str(tmp / "inputs.bin"),
               json.dumps(list(sig.input_shape(batch))), sig.dtype, sig.input_name, "300"]
        return json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--peers", default="zoo_mnist8,torch_tiny_cnn_pad_avgpool,torch_cnn421k_dynbatch,keras_mlp_nhwc_raw255")
    parser.add_argument("--recipes", default="input,fast")
    parser.add_argument("--out", default=str(ROOT / "bench" / "runtime_speed.md"))
    args = parser.parse_args()
    dist = ensure_runtime().files[0].parent  # the dist folder of the pinned onnxruntime-web
    train = mnist.load("train")
    lines = ["# Per-digit latency in Node: onnxruntime-web 1.30 (wasm, 1 thread) vs the compiled runtime", "",
             f"`python bench/runtime_speed.py --peers {args.peers} --recipes {args.recipes}` (medians of 3 alternating"
             " rounds of 300 calls on 50 real test digits; the machine is shared, so compare within a row)", "",
             *machine.markdown(),
             "| model | recipe | onnxruntime-web ms | compiled ms | compiled is |", "|---|---|---:|---:|---:|"]
    for name in args.peers.split(","):
        opened = api.open_model(PEERS / f"{name}.onnx")
        for recipe in args.recipes.split(","):
            sig = opened.detection.signature
            proto = opened.model if recipe == "input" else apply_recipe(opened.model, sig, recipe, train)
            rounds = np.array(measure(proto, sig, dist))
            ort_ms, c_ms = float(np.median(rounds[:, 0])), float(np.median(rounds[:, 1]))
            lines.append(f"| {name} | {recipe} | {ort_ms:.3f} | {c_ms:.3f} | {ort_ms / c_ms:.2f}x as fast |")
            print(lines[-1], flush=True)
            Path(args.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
