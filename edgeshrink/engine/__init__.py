"""Which engine gives the exact int8 answer on this machine, and the machine facts every measurement records.

onnxruntime's x86 int8 kernels without VNNI (AVX2, AVX-512 Core) add pairs of uint8 x int8 products into an
int16 that saturates at 32,767, so its default sessions give other classes there than on a CPU with VNNI, on
ARM, or in the browser. The session option `session.x64quantprecision` rewrites int8 weights to uint8 and
runs the exact u8u8 kernels. Once per process, `probe` runs capping inputs through each int8 operator family,
with onnxruntime's defaults and with that option, against exact integer arithmetic in numpy. Where the defaults
cap, measuring sessions take the option; int8 models whose products the option misses (`coverage`), or all of
them where even the option is not exact (an older onnxruntime, another build), are measured with the compiled
runtime instead, and each result says which.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field

import numpy as np
import onnx
import onnxruntime as ort

from edgeshrink.engine import coverage
from edgeshrink.engine.coverage import EXACT_RANGE, integer_arithmetic, optimized
from edgeshrink.engine.machine import INT8_FEATURES, Cpu, cpu
from edgeshrink.engine.probe import EXACT_OPTION, cases, failing, options

ENGINE_ORT = "onnxruntime"  # its defaults are exact on this CPU
ENGINE_ORT_EXACT = f"onnxruntime with {EXACT_OPTION}=1"
ENGINE_COMPILED = "the compiled runtime (wasmtime)"

__all__ = ["ENGINE_COMPILED", "ENGINE_ORT", "ENGINE_ORT_EXACT", "EXACT_OPTION", "EXACT_RANGE", "INT8_FEATURES",
           "NUMPY_TYPES", "Cpu", "Engine", "cases", "cpu", "current", "inexact", "integer_arithmetic", "open_session",
           "optimized", "options", "uncovered"]


@dataclass(frozen=True)
class Engine:
    """How int8 arithmetic is computed in this process, and how onnxruntime's default kernels behave here."""

    int8: str  # ENGINE_ORT, ENGINE_ORT_EXACT or ENGINE_COMPILED: what every measurement of an int8 model uses
    onnxruntime: str  # version
    cpu: Cpu
    native_exact: bool  # onnxruntime's default session computes exact int8 sums on this CPU
    capped: list[str] = field(default_factory=list)  # probe cases the default session got wrong

    @property
    def option(self) -> bool:
        """Whether measuring sessions take EXACT_OPTION (they do wherever it is what makes them exact)."""
        return self.int8 == ENGINE_ORT_EXACT

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Engine":
        return cls(**{**data, "cpu": Cpu(**data["cpu"])})

    def describe(self) -> str:
        native = ("its default int8 kernels are exact on this CPU" if self.native_exact else
                  f"its default int8 kernels cap sums on this CPU ({', '.join(self.capped)})")
        return f"onnxruntime {self.onnxruntime} on {self.cpu.describe()}; int8 computed by {self.int8}; {native}"


@functools.cache
def current() -> Engine:
    """The engine of this process, probed once."""
    capped = failing(exact_option=False)
    if not capped:
        int8 = ENGINE_ORT
    else:  # the option where it makes this onnxruntime exact, else the compiled runtime
        int8 = ENGINE_ORT_EXACT if not failing(exact_option=True) else ENGINE_COMPILED
    return Engine(int8, ort.__version__, cpu(), not capped, capped)


def open_session(model: onnx.ModelProto, threads: int = 0, exact: bool = True):
    """(onnxruntime session, whether it took EXACT_OPTION). With `exact`, the option where this CPU needs it and
    the graph runs with it: its rewrite refuses some graphs (int8 activations in an opset-10 QLinearMatMul) and
    breaks others at run time (per-axis DequantizeLinear of int8 weights), so one run on zeros checks it.
    Raises onnxruntime's own error where the model does not load at all."""
    def load(option: bool):
        return ort.InferenceSession(model.SerializeToString(), options(option, threads),
                                    providers=["CPUExecutionProvider"])

    found = current()
    if exact and not found.native_exact and found.option:
        try:
            sess = load(True)
            sess.run(None, _zeros(sess))
            return sess, True
        except Exception:  # onnxruntime's own exception types: the model as written decides below
            pass
    return load(False), False


def inexact(model: onnx.ModelProto, took_option: bool) -> str:
    """Why a session of `model` from `open_session` may not compute exact int8 sums on this CPU, or ''."""
    found = current()
    if found.native_exact:
        return ""
    if found.int8 == ENGINE_COMPILED:
        return f"onnxruntime {found.onnxruntime} is not exact here even with {EXACT_OPTION}"
    return ", ".join(uncovered(model, took_option))


NUMPY_TYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(float16)": np.float16,
               "tensor(uint8)": np.uint8, "tensor(int8)": np.int8, "tensor(int32)": np.int32,
               "tensor(int64)": np.int64}  # onnxruntime's names of input types


def _zeros(sess) -> dict[str, np.ndarray]:
    """A zero input for every input of `sess`, free dimensions at 1."""
    return {v.name: np.zeros([d if isinstance(d, int) else 1 for d in v.shape], NUMPY_TYPES.get(v.type, np.float32))
            for v in sess.get_inputs()}


def uncovered(model: onnx.ModelProto, option: bool = True) -> list[str]:
    """The integer products of `model` this CPU may get wrong (see `coverage.uncovered`)."""
    return coverage.uncovered(model, current().capped, option)
