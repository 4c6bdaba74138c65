"""Measure a model honestly: accuracy on all 10,000 MNIST test images, parameters, bytes, latency."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import onnx

from edgeshrink import data as mnist
from edgeshrink import inference
from edgeshrink.core.model import count_params, is_quantized, op_histogram, opset
from edgeshrink.core.signature import Signature
from edgeshrink.progress import Track, no_progress
from edgeshrink.size import Size, measure

THROUGHPUT_BATCH = 256
FLOAT = "float"  # Evaluation.engine of a model without int8 arithmetic
EDGE_RUNS = 300  # per-digit runs of the compiled wasm in Node: cheap, and enough for a stable median


@dataclass(frozen=True)
class Latency:
    """onnxruntime CPU latency on one thread, after warm-up."""

    median_ms: float
    p90_ms: float
    batch: int  # images per run (1, or the model's fixed batch)
    runs: int
    throughput_ips: float  # images per second at `throughput_batch`
    throughput_batch: int


@dataclass(frozen=True)
class EdgeLatency:
    """The compiled runtime (the model's own wasm, as the page runs it): per-digit latency, timed in Node's V8
    (the browser's engine) or, without Node, in wasmtime; its accuracy; or why the model does not compile."""

    median_ms: float | None
    p90_ms: float | None
    runs: int
    wasm_bytes: int  # the compiled module, weights included
    wasm_brotli: int
    reason: str = ""  # why the model does not compile (empty when it does)
    timer: str = "Node"  # what timed it: "Node" (V8) or "wasmtime" (no Node on this machine)
    accuracy: float | None = None  # on the test images, computed by the wasm itself (in wasmtime)
    build: str = "fast"  # the build a page carries (runtime.compiler.PAGE_SHARE): "fast" (-O3) or "small" (-Os)


@dataclass(frozen=True)
class NativeInt8:
    """An int8 model as onnxruntime's default kernels run it on a CPU where they cap sums (see `engine`)."""

    accuracy: float
    differing: int  # test images whose class differs from the exact arithmetic's


@dataclass(frozen=True)
class Evaluation:
    """Everything `edgeshrink evaluate` measures about one model."""

    name: str
    accuracy: float
    correct: int
    total: int
    params_total: int
    params_nonzero: int
    size: Size
    latency: Latency | None
    nodes: int
    op_histogram: dict[str, int]
    opset: int
    producer: str
    signature: Signature
    preprocess_source: str = "metadata"
    notes: list[str] = field(default_factory=list)
    edge: EdgeLatency | None = None  # None when latency was not measured
    engine: str = ""  # what computed int8 exactly (see edgeshrink.engine), or FLOAT; '' in older reports
    native: NativeInt8 | None = None  # int8 on a CPU where onnxruntime's defaults differ from exact arithmetic

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["preprocess"] = self.signature.preprocess.name
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Evaluation":
        """The evaluation `to_dict` or `dataclasses.asdict` wrote (entries that are not fields are ignored)."""
        values = {f.name: data[f.name] for f in fields(cls) if f.name in data}
        latency, edge, native = values["latency"], values.get("edge"), values.get("native")
        return cls(**{**values, "size": Size(**values["size"]), "latency": Latency(**latency) if latency else None,
                      "signature": Signature.from_dict(values["signature"]),
                      "edge": EdgeLatency(**edge) if edge else None,
                      "native": NativeInt8(**native) if native else None})


def measure_latency(model: onnx.ModelProto, signature: Signature, pixels: np.ndarray,
                    min_runs: int = 50, max_runs: int = 1000, budget_s: float = 1.0) -> Latency:
    """Median and p90 of single-thread runs at the smallest batch the model takes, plus throughput, in
    onnxruntime as a native deployment creates it (its default options)."""
    sess = inference.session(model, threads=1, native=True)
    batch = max(signature.batch or 1, 1)
    feed = {signature.input_name: signature.feed(pixels[:batch])}
    for _ in range(10):
        sess.run(None, feed)
    times = []
    deadline = time.perf_counter() + budget_s
    while len(times) < max_runs and (len(times) < min_runs or time.perf_counter() < deadline):
        start = time.perf_counter()
        sess.run(None, feed)
        times.append(time.perf_counter() - start)
    ms = np.array(times) * 1000
    tp_batch = THROUGHPUT_BATCH if signature.batch is None else batch
    tp_feed = {signature.input_name: signature.feed(pixels[:tp_batch])}
    sess.run(None, tp_feed)
    runs, start = 0, time.perf_counter()
    while runs < 3 or time.perf_counter() - start < budget_s / 2:
        sess.run(None, tp_feed)
        runs += 1
    throughput = runs * tp_batch / (time.perf_counter() - start)
    return Latency(float(np.median(ms)), float(np.percentile(ms, 90)), batch, len(times), throughput, tp_batch)


def measure_compiled(model: onnx.ModelProto, signature: Signature, pixels: np.ndarray, runs: int = EDGE_RUNS,
                     labels: np.ndarray | None = None) -> EdgeLatency:
    """Compile the model for the browser, time it per digit (in Node, else in wasmtime) and, given `labels`,
    score it on `pixels`; a model that does not compile gives the reason instead of numbers."""
    from edgeshrink.runtime import UnsupportedModel, compile_model, node

    try:
        compiled = compile_model(model, signature, build="page")
        timer, ms = node.digit_ms(compiled, signature, pixels, runs)
        ms = np.array(ms)
        accuracy = None
        if labels is not None:
            sess = inference.CompiledSession(model, signature, compiled=compiled)
            accuracy = inference.accuracy(sess, signature, pixels, labels)
    except UnsupportedModel as exc:
        return EdgeLatency(None, None, 0, 0, 0, str(exc))
    size = measure(compiled.files["model.wasm"])
    return EdgeLatency(float(np.median(ms)), float(np.percentile(ms, 90)), len(ms), size.raw, size.brotli, "",
                       timer, accuracy, compiled.build)


def evaluate(model: onnx.ModelProto, signature: Signature, name: str = "model", *,
             test: mnist.Split | None = None, latency: bool = True, track: Track = no_progress,
             preprocess_source: str = "metadata") -> Evaluation:
    """Measure `model` fed as `signature` says; `test` defaults to all 10,000 MNIST test images."""
    test = test if test is not None else mnist.load("test")
    sess = inference.session(model, signature=signature)
    with track(f"evaluate {name}", len(test)) as advance:
        predictions = inference.predict(sess, signature, test.images, advance)
    correct = int((predictions == test.labels).sum())
    quantized = is_quantized(model)
    total, nonzero = count_params(model)
    return Evaluation(
        name=name,
        accuracy=correct / len(test),
        correct=correct,
        total=len(test),
        params_total=total,
        params_nonzero=nonzero,
        size=measure(model.SerializeToString()),
        latency=measure_latency(model, signature, test.images) if latency else None,
        nodes=len(model.graph.node),
        op_histogram=op_histogram(model),
        opset=opset(model),
        producer=f"{model.producer_name} {model.producer_version}".strip(),
        signature=signature,
        preprocess_source=preprocess_source,
        edge=measure_compiled(model, signature, test.images, labels=test.labels) if latency else None,
        engine=inference.engine_of(sess) if quantized else FLOAT,
        native=_native(model, signature, test, predictions) if quantized else None,
    )


def _native(model: onnx.ModelProto, signature: Signature, test: mnist.Split,
            exact: np.ndarray) -> NativeInt8 | None:
    """The int8 model under onnxruntime's default kernels, where those are not exact on this CPU."""
    from edgeshrink import engine

    if engine.current().native_exact:
        return None
    native = inference.predict(inference.session(model, native=True), signature, test.images)
    return NativeInt8(float((native == test.labels).mean()), int((native != exact).sum()))
