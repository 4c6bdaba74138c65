"""The edge side of a trial, measured: which runtime the bundle would ship, its first-visit bytes, and the
per-digit latency of the model in that runtime under Node.

One seam for every runtime: the compiled runtime (wasm + mjs made for this model) when edgeshrink has one
and the model compiles, otherwise onnxruntime-web. Both are measured, never estimated.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np
import onnx

from edgeshrink.core.signature import Signature
from edgeshrink.errors import SearchError, check_exit
from edgeshrink.size import measure

HARNESS = Path(__file__).with_name("ort_latency.mjs")
LATENCY_DIGITS = 50  # real validation digits cycled through the timed runs
RUNS = 200
NODE_TIMEOUT = 300
DISAGREES = "the compiled runtime"  # how a disagreement's reason starts


@dataclass(frozen=True)
class EdgeMeasurement:
    """What a first visit costs with this model, and how fast it answers once loaded."""

    runtime: str  # "compiled" or "onnxruntime-web X.Y.Z"
    runtime_brotli: int  # bytes of the runtime's files, brotli quality 11
    model_brotli: int  # bytes of the model file (0 when the compiled runtime embeds it)
    latency_ms: float  # median per digit, one thread
    load_ms: float  # creating the session / instantiating the module in Node
    note: str = ""  # why the compiled runtime was not used, when it was not
    compiled_disagrees: bool = False  # it compiled, but does not reproduce onnxruntime (so it is not used)
    # the module measured, when the compiled runtime runs the model: the bundle ships it rather than compile again
    compiled: object = field(default=None, repr=False, compare=False)

    @property
    def transfer_brotli(self) -> int:
        return self.runtime_brotli + self.model_brotli

    def to_dict(self) -> dict:
        """The measurements (not the module), as trial.json and the study record them."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "compiled"}
        return {**out, "transfer_brotli": self.transfer_brotli}

    @classmethod
    def from_dict(cls, data: dict) -> "EdgeMeasurement":
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})


def measure_edge(proto: onnx.ModelProto, signature: Signature, digits: np.ndarray) -> EdgeMeasurement:
    """Measure `proto` in the runtime its bundle would ship; `digits` are raw uint8 images (training)."""
    compiled = _compiled(proto, signature, digits)
    if isinstance(compiled, EdgeMeasurement):
        return compiled
    measured = _onnxruntime_web(proto, signature, digits, note=compiled)
    return replace(measured, compiled_disagrees=compiled.startswith(DISAGREES))


def _compiled(proto: onnx.ModelProto, signature: Signature, digits: np.ndarray) -> EdgeMeasurement | str:
    """The compiled runtime's measurement (wasm + mjs, the model inside), or the reason it does not apply."""
    try:
        from edgeshrink.runtime import UnsupportedModel, compile_model
        from edgeshrink.runtime.node import digit_ms
    except ImportError:
        return "the compiled runtime is not part of this version"
    try:
        compiled = compile_model(proto, signature, build="page")
        disagreement = _disagreement(compiled, proto, signature, digits[:LATENCY_DIGITS])
        if disagreement:
            return disagreement
        _, times = digit_ms(compiled, signature, digits[:LATENCY_DIGITS], runs=RUNS)
    except UnsupportedModel as exc:
        return f"not compiled: {' '.join(str(exc).split())}"
    runtime_brotli = sum(measure(data).brotli for data in compiled.files.values())
    return EdgeMeasurement("compiled", runtime_brotli, 0, float(np.median(times)), 0.0, compiled=compiled)


def _disagreement(compiled, proto: onnx.ModelProto, signature: Signature, digits: np.ndarray) -> str:
    """Why the compiled module may not stand in for onnxruntime (as `verify` would refuse it), or ''.

    int8 models must give onnxruntime's scores bit for bit, float models its digits."""
    from edgeshrink import inference
    from edgeshrink.core.model import is_quantized
    from edgeshrink.runtime.wasm import feed_images, run_images

    got = run_images(compiled, feed_images(signature, digits))
    want = inference.scores(inference.session(proto, threads=1, signature=signature), signature, digits).astype(np.float32)
    if got.shape != want.shape:
        return ""  # class-index outputs: `verify` compares the digits in the browser
    if is_quantized(proto) and not np.array_equal(got, want):
        return (f"the compiled runtime's int8 scores differ from onnxruntime's (by up to "
                f"{float(np.abs(got - want).max()):.3g}); measured in onnxruntime-web instead")
    if not np.array_equal(got.argmax(1), want.argmax(1)):
        return "the compiled runtime picks other digits than onnxruntime; measured in onnxruntime-web instead"
    return ""


def _onnxruntime_web(proto: onnx.ModelProto, signature: Signature, digits: np.ndarray, note: str) -> EdgeMeasurement:
    version, files = ort_web_files()
    runtime_brotli = sum(_file_brotli(f) for f in files)
    model_bytes = proto.SerializeToString()
    with tempfile.TemporaryDirectory(prefix="edgeshrink-edge-") as tmp:
        model_path = Path(tmp) / "model.onnx"
        model_path.write_bytes(model_bytes)
        feed, meta = _feed(signature, digits[:LATENCY_DIGITS])
        (Path(tmp) / "feed.bin").write_bytes(feed.tobytes())
        (Path(tmp) / "feed.json").write_text(json.dumps(meta))
        result = _node([str(files[0].parent), str(model_path), str(Path(tmp) / "feed.bin"),
                        str(Path(tmp) / "feed.json"), str(RUNS)])
    return EdgeMeasurement(f"onnxruntime-web {version}", runtime_brotli, measure(model_bytes).brotli,
                           float(result["median_ms"]), float(result["load_ms"]), note)


def _feed(signature: Signature, digits: np.ndarray) -> tuple[np.ndarray, dict]:
    """One run's input per digit (a fixed batch B repeats the digit B times), and how to read it."""
    batch = signature.batch or 1
    runs = [signature.feed(np.repeat(digits[i:i + 1], batch, axis=0)) for i in range(len(digits))]
    stacked = np.ascontiguousarray(np.stack(runs))
    meta = {"input": signature.input_name, "dtype": str(stacked.dtype), "shape": list(runs[0].shape),
            "images_per_run": batch}
    return stacked, meta


def _node(args: list[str]) -> dict:
    node = shutil.which("node")
    if node is None:
        raise SearchError("Node.js is not installed, and search measures latency in it; install Node.js 20")
    try:
        done = subprocess.run([node, str(HARNESS), *args], capture_output=True, text=True, timeout=NODE_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise SearchError(f"measuring latency in Node took over {NODE_TIMEOUT} s") from exc
    check_exit(done.returncode, "Node.js measuring latency")
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        reason = next((line for line in lines if "Error" in line), lines[-1] if lines else f"exit {done.returncode}")
        raise SearchError(f"onnxruntime-web in Node could not run the model: {reason.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def ort_web_files() -> tuple[str, tuple[Path, ...]]:
    """The pinned onnxruntime-web's version and the files a bundle ships (entry module first)."""
    from edgeshrink.web.assemble.ortweb import ensure_runtime

    runtime = ensure_runtime()
    return runtime.version, tuple(runtime.files)


_SIZES: dict[Path, int] = {}


def _file_brotli(path: Path) -> int:
    """Brotli bytes of a runtime file, through the bundle's compression cache (the wasm takes ~45 s)."""
    if path not in _SIZES:
        from edgeshrink.web.assemble.compress import Compressor
        from edgeshrink.web.assemble.ortweb import cache_root

        _SIZES[path] = Compressor(cache_root() / "compressed").size(path.read_bytes()).brotli
    return _SIZES[path]
