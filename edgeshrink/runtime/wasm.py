"""Run a compiled model in process with wasmtime: the same model.wasm the page loads, as its loader runs it.

WebAssembly's arithmetic is deterministic (no fused multiply-add, one rounding per operation), so wasmtime's
scores are V8's bit for bit: accuracy and exactness are measured here, without Node. Its latency is
wasmtime's (Cranelift), not a browser's; Node gives that (node.py).
"""

from __future__ import annotations

import time

import numpy as np

from edgeshrink.core.signature import Signature
from edgeshrink.errors import UnsupportedModel
from edgeshrink.runtime.compiler import WASM_FILE, Compiled

ENGINE = "wasmtime"


class Instance:
    """One instantiated module: `run(image)` writes the image into every batch slot, runs, returns the scores."""

    def __init__(self, compiled: Compiled):
        import wasmtime

        try:
            self._store = wasmtime.Store(_engine())
            module = wasmtime.Module(self._store.engine, compiled.files[WASM_FILE])
            exports = wasmtime.Instance(self._store, module, []).exports(self._store)
        except wasmtime.WasmtimeError as exc:
            raise UnsupportedModel(f"wasmtime cannot load the compiled model: {str(exc).splitlines()[0]}") from exc
        exports["init"](self._store)  # once: decodes the weights stored as codes (sparse.py)
        shape = compiled.shape
        self._run = exports["run"]
        memory = exports["memory"]
        base = np.ctypeslib.as_array(memory.data_ptr(self._store), shape=(memory.data_len(self._store),))
        x, y, batch = shape["input"], shape["output"], shape["batch"]
        self.input = _view(base, exports["input"](self._store), x["type"], x["length"] * batch).reshape(batch, -1)
        self.output = _view(base, exports["output"](self._store), y["type"], y["length"])

    def run(self, image: np.ndarray) -> np.ndarray:
        self.input[:] = image.reshape(-1)
        self._run(self._store)
        return self.output.astype(np.float32)


def _engine():
    """An engine that fills a module's memory by copying its data: wasmtime's default maps a sealed memfd
    image, which failed on this project's machines ("cannot add seals to the memfd") when memory was short,
    and a copy of at most a few megabytes costs nothing beside the digits run on it."""
    import wasmtime

    config = wasmtime.Config()
    config.memory_init_cow = False
    return wasmtime.Engine(config)


def _view(memory: np.ndarray, pointer: int, dtype: str, length: int) -> np.ndarray:
    size = np.dtype(dtype).itemsize
    return memory[pointer:pointer + length * size].view(dtype)


def run_images(compiled: Compiled, inputs: np.ndarray) -> np.ndarray:
    """Scores (n, k) for `inputs` (n, *one image as the model's input at batch 1*), run one by one."""
    instance = Instance(compiled)
    return np.stack([instance.run(image) for image in inputs]) if len(inputs) else np.zeros((0, 0), np.float32)


def latency_ms(compiled: Compiled, inputs: np.ndarray, runs: int = 300) -> list[float]:
    """Per-digit wall times (ms) in wasmtime of `runs` runs after warm-up, cycling through `inputs`."""
    instance = Instance(compiled)
    for i in range(20):
        instance.run(inputs[i % len(inputs)])
    times = []
    for i in range(runs):
        start = time.perf_counter()
        instance.run(inputs[i % len(inputs)])
        times.append((time.perf_counter() - start) * 1000)
    return times


def feed_images(signature: Signature, pixels: np.ndarray) -> np.ndarray:
    """(n, elements of one image) in the model's input dtype, for run_images."""
    if signature.batch == 0:  # no batch dimension: the signature feeds one image at a time
        return np.stack([signature.feed(pixels[i:i + 1]).reshape(-1) for i in range(len(pixels))])
    return signature.feed(pixels).reshape(len(pixels), -1)
