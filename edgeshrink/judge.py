"""Verdicts on a step's output beyond accuracy: did it make the model worse, did it unfold int8 weights."""

from __future__ import annotations

import onnx

from edgeshrink.evaluate import Evaluation

# Latency is measured on a shared CPU: only a clear slowdown counts, not the jitter between two runs.
SLOWER_FACTOR = 1.25
LARGER_FACTOR = 1.02  # a few hundred bytes of shape constants moved into initializers are not "larger"
_INT8 = {onnx.TensorProto.INT8, onnx.TensorProto.UINT8}
_FLOATS = {onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE, onnx.TensorProto.FLOAT16}


def worse(before: Evaluation, after: Evaluation, latency: str = "edge") -> dict[str, str]:
    """How the step's model is worse than its input: {"larger": why, "slower": why}, empty if it is not.

    "slower" is judged where the model will run: with `latency` "edge", in the page's runtime (the compiled wasm,
    in Node) when both models compile, else in native onnxruntime; with "native", in native onnxruntime."""
    larger = []
    for label, old, new in (("bytes", before.size.raw, after.size.raw), ("gzip bytes", before.size.gzip, after.size.gzip)):
        if new > LARGER_FACTOR * old:
            larger.append(f"{new / old:.2f}x larger ({old:,} -> {new:,} {label})")
    reasons = {"larger": "; ".join(larger)} if larger else {}
    times = _latencies(before, after, latency)
    if times:
        where, old, new, beside = times
        if new > SLOWER_FACTOR * old:
            reasons["slower"] = f"{new / old:.2f}x slower {where} ({old:.3f} -> {new:.3f} ms{beside})"
    return reasons


def _latencies(before: Evaluation, after: Evaluation, latency: str) -> tuple[str, float, float, str] | None:
    """(where, before ms, after ms, the other runtime's times) of the latency that judges, or None."""
    native = (before.latency.median_ms, after.latency.median_ms) if before.latency and after.latency else None
    edge = (before.edge.median_ms, after.edge.median_ms) if before.edge and after.edge else None
    edge = edge if edge and None not in edge else None
    if latency == "edge" and edge:
        beside = f"; native onnxruntime {native[0]:.3f} -> {native[1]:.3f} ms" if native else ""
        return f"in the page's runtime (compiled wasm, {after.edge.timer})", *edge, beside
    if native:
        beside = f"; the page's runtime {edge[0]:.3f} -> {edge[1]:.3f} ms" if edge else ""
        return "in native onnxruntime", *native, beside
    return None


def _elements(model: onnx.ModelProto, types: set[int]) -> int:
    total = 0
    for init in model.graph.initializer:
        if init.data_type in types:
            count = 1
            for d in init.dims:
                count *= d
            total += count
    return total


def int8_unfolded(before: onnx.ModelProto, after: onnx.ModelProto) -> str:
    """A reason if `after` holds fewer int8 weights and more float ones than `before` (onnxsim issue 216:
    folding DequantizeLinear of an int8 initializer stores it as float again); '' otherwise."""
    int8_before, int8_after = _elements(before, _INT8), _elements(after, _INT8)
    if int8_before == 0 or int8_after >= int8_before:
        return ""
    grown = _elements(after, _FLOATS) - _elements(before, _FLOATS)
    if grown <= 0:
        return ""
    return (f"it would unfold {int8_before - int8_after:,} int8 weights back to float; kept the int8 model "
            "as it was")
