"""Run a compiled model in Node 20 (the same wasm the browser loads, in V8, the browser's engine): per-digit
latency, and scores for many images. One Node process per call; images go through a temporary file."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from importlib import resources
from pathlib import Path

import numpy as np

from edgeshrink.core.signature import Signature
from edgeshrink.errors import UnsupportedModel, check_exit
from edgeshrink.runtime import wasm
from edgeshrink.runtime.compiler import Compiled


def available() -> bool:
    """Whether Node is on PATH: it times the compiled model in V8, the browser's engine."""
    return shutil.which("node") is not None


def node() -> str:
    path = shutil.which("node")
    if not path:
        raise UnsupportedModel("Node.js is missing: install Node 20 to run the compiled runtime outside a browser")
    return path


def _call(compiled: Compiled, inputs: np.ndarray, mode: str, runs: int = 0) -> tuple[str, Path, Path]:
    """Write the module and the images, run the Node runner; returns stdout and the output file."""
    tmp = Path(tempfile.mkdtemp(prefix="edgeshrink-node-"))
    for name, data in compiled.files.items():
        (tmp / name).write_bytes(data)
    runner = tmp / "runner.mjs"
    runner.write_text(resources.files("edgeshrink.runtime").joinpath("js/node_runner.mjs").read_text())
    images = tmp / "inputs.bin"
    images.write_bytes(np.ascontiguousarray(inputs).tobytes())
    out = tmp / "scores.bin"
    wasm = next(n for n in compiled.files if n.endswith(".wasm"))
    cmd = [node(), str(runner), mode, str(tmp / compiled.entry), str(tmp / wasm), str(images), str(out),
           str(len(inputs)), str(runs)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        check_exit(result.returncode, "Node.js running the compiled model")
        lines = result.stderr.strip().splitlines()
        raise UnsupportedModel(f"the compiled model failed in Node: {lines[-1] if lines else result.returncode}")
    return result.stdout, out, tmp


def run_images(compiled: Compiled, inputs: np.ndarray) -> np.ndarray:
    """Scores (n, k) for `inputs` (n, *one image as the model's input at batch 1*), run one by one."""
    _, out, tmp = _call(compiled, inputs, "scores")
    try:
        return np.fromfile(out, dtype=np.float32).reshape(len(inputs), -1)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def node_latency_ms(compiled: Compiled, signature: Signature, pixels: np.ndarray, runs: int = 300) -> list[float]:
    """Per-digit wall times (ms) of `runs` runs in Node, after warm-up, cycling through `pixels`."""
    inputs = wasm.feed_images(signature, pixels[:50])
    stdout, _, tmp = _call(compiled, inputs, "latency", runs)
    shutil.rmtree(tmp, ignore_errors=True)
    return [float(t) for t in json.loads(stdout)]


def alternating_ms(modules: dict[str, Compiled], signature: Signature, pixels: np.ndarray,
                   rounds: int = 3) -> dict[str, float]:
    """Per-digit ms of each module, side by side: `rounds` rounds each time every module in turn (300 runs on
    `pixels[:50]`), so a slow minute of a shared machine slows them alike; the median of its rounds' medians."""
    times: dict[str, list[float]] = {name: [] for name in modules}
    for _ in range(rounds):
        for name, compiled in modules.items():
            times[name].append(float(np.median(node_latency_ms(compiled, signature, pixels))))
    return {name: float(np.median(values)) for name, values in times.items()}


def digit_ms(compiled: Compiled, signature: Signature, pixels: np.ndarray, runs: int = 300) -> tuple[str, list[float]]:
    """What timed it ("Node", or "wasmtime" where Node is missing) and its per-digit wall times (ms)."""
    if available():
        return "Node", node_latency_ms(compiled, signature, pixels, runs)
    return wasm.ENGINE, wasm.latency_ms(compiled, wasm.feed_images(signature, pixels[:50]), runs)
