"""Verdicts on a step's output beyond accuracy: did it make the model worse, did it unfold int8 weights."""

from __future__ import annotations

import onnx

from edgeshrink.evaluate import Evaluation

# Latency is measured on a shared CPU: only a clear slowdown counts, not the jitter between two runs.
SLOWER_FACTOR = 1.25
LARGER_FACTOR = 1.02  # a few hundred bytes of shape constants moved into initializers are not "larger"
_INT8 = {onnx.TensorProto.INT8, onnx.TensorProto.UINT8}
_FLOATS = {onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE, onnx.TensorProto.FLOAT16}


def worse(before: Evaluation, after: Evaluation) -> dict[str, str]:
    """How the step's model is worse than its input: {"larger": why, "slower": why}, empty if it is not."""
    larger = []
    for label, old, new in (("bytes", before.size.raw, after.size.raw), ("gzip bytes", before.size.gzip, after.size.gzip)):
        if new > LARGER_FACTOR * old:
            larger.append(f"{new / old:.2f}x larger ({old:,} -> {new:,} {label})")
    reasons = {"larger": "; ".join(larger)} if larger else {}
    if before.latency and after.latency and after.latency.median_ms > SLOWER_FACTOR * before.latency.median_ms:
        old, new = before.latency.median_ms, after.latency.median_ms
        reasons["slower"] = f"{new / old:.2f}x slower ({old:.3f} -> {new:.3f} ms)"
    return reasons


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
