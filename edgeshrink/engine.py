"""Which engine gives the exact int8 answer on this machine, and the machine facts every measurement records.

onnxruntime's x86 int8 kernels without VNNI (AVX2, AVX-512 Core) add pairs of uint8 x int8 products into an
int16 that saturates at 32,767, so its default sessions give other classes there than on a CPU with VNNI, on
ARM, or in the browser. The session option `session.x64quantprecision` rewrites int8 weights to uint8 and
runs the exact u8u8 kernels. Once per process, capping inputs (every activation 255, every weight 127) go
through each int8 operator family, with onnxruntime's defaults and with that option, against exact integer
arithmetic in numpy. Every measuring session then takes the option; where even the option is not exact (an
older onnxruntime, another build), int8 models are measured with the compiled runtime instead, and said so.
"""

from __future__ import annotations

import functools
import platform
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

EXACT_OPTION = "session.x64quantprecision"
ENGINE_ORT = "onnxruntime"  # its defaults are exact on this CPU
ENGINE_ORT_EXACT = f"onnxruntime with {EXACT_OPTION}=1"
ENGINE_COMPILED = "the compiled runtime (Node)"

# x86: the kernels onnxruntime picks for int8 (AVX2 and AVX-512 Core cap sums, VNNI does not); ARM: dot product.
INT8_FEATURES = ("SSE41", "AVX2", "AVX512F", "AVX512BW", "AVX512VNNI", "AVXVNNI", "ASIMD", "ASIMDDP")


@dataclass(frozen=True)
class Cpu:
    """The CPU a number was measured on, as this process sees it (cpuid, so an emulator's CPU model shows)."""

    machine: str  # x86_64, aarch64, arm64...
    model: str  # the model name the OS reports ('' where it does not)
    int8_features: list[str] = field(default_factory=list)  # of INT8_FEATURES, those present

    def describe(self) -> str:
        features = ", ".join(self.int8_features) or "none of " + ", ".join(INT8_FEATURES[:5])
        return f"{self.model or self.machine} ({self.machine}; {features})"


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


def cpu() -> Cpu:
    """This process's CPU: its model name and the int8-relevant features its cpuid reports."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as found
    except ImportError:  # numpy 1.x
        from numpy.core._multiarray_umath import __cpu_features__ as found
    flags = _cpuinfo("flags") or _cpuinfo("Features")
    features = [f for f in INT8_FEATURES if found.get(f) or (f == "AVXVNNI" and "avx_vnni" in flags.split())]
    return Cpu(platform.machine(), _cpuinfo("model name") or platform.processor(), features)


def _cpuinfo(key: str) -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                name, _, value = line.partition(":")
                if name.strip() == key:
                    return value.strip()
    except OSError:
        pass
    return ""


@functools.cache
def current() -> Engine:
    """The engine of this process, probed once."""
    capped = _probe(exact_option=False)
    if not capped:
        int8 = ENGINE_ORT
    else:  # the option where it makes this onnxruntime exact, else the compiled runtime
        int8 = ENGINE_ORT_EXACT if not _probe(exact_option=True) else ENGINE_COMPILED
    return Engine(int8, ort.__version__, cpu(), not capped, capped)


def _probe(exact_option: bool) -> list[str]:
    """The probe cases whose output differs from exact integer arithmetic."""
    return [name for name, model, feed, want in _cases() if not np.array_equal(_run(model, feed, exact_option), want)]


def options(exact: bool = True, threads: int = 0):
    """onnxruntime SessionOptions; `exact` adds EXACT_OPTION (it acts at graph level EXTENDED and above)."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1 if threads else 0
    opts.log_severity_level = 3
    if exact:
        opts.add_session_config_entry(EXACT_OPTION, "1")
    return opts


def _run(model: onnx.ModelProto, feed: np.ndarray, exact_option: bool) -> np.ndarray:
    sess = ort.InferenceSession(model.SerializeToString(), options(exact_option, 1), providers=["CPUExecutionProvider"])
    return np.asarray(sess.run(None, {"x": feed})[0])


def _cases():
    """(name, model, input, exact output) for each int8 operator family, on capping inputs."""
    yield "MatMulInteger", *_matmul_integer()
    yield "QLinearMatMul", *_qlinear_matmul()
    for out_channels, in_channels in ((16, 8), (4, 1)):  # onnxruntime's symmetric conv kernel, and im2col + GEMM
        yield f"QLinearConv {in_channels}->{out_channels}", *_qlinear_conv(out_channels, in_channels)
    yield "QGemm", *_qdq_gemm()
    yield "ConvInteger", *_conv_integer()


def _model(nodes, x: np.ndarray, x_type, y_type, inits: dict, opset: int = 13) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "probe", [helper.make_tensor_value_info("x", x_type, list(x.shape))],
                              [helper.make_tensor_value_info("y", y_type, None)],
                              [numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)


def _requantize(acc: np.ndarray, scale: float) -> np.ndarray:
    """onnxruntime's requantization of an exact int32 sum: float multiply, round half to even, saturate."""
    return np.clip(np.rint(acc.astype(np.float32) * np.float32(scale)), 0, 255).astype(np.uint8)


def _matmul_integer():
    x, w = np.full((1, 2), 255, np.uint8), np.full((2, 1), 127, np.int8)
    model = _model([helper.make_node("MatMulInteger", ["x", "w"], ["y"])], x, TensorProto.UINT8, TensorProto.INT32,
                   {"w": w})
    return model, x, x.astype(np.int32) @ w.astype(np.int32)


def _conv_integer():
    x, w = np.full((1, 1, 3, 3), 255, np.uint8), np.full((1, 1, 3, 3), 127, np.int8)
    model = _model([helper.make_node("ConvInteger", ["x", "w"], ["y"])], x, TensorProto.UINT8, TensorProto.INT32,
                   {"w": w})
    return model, x, np.full((1, 1, 1, 1), 9 * 255 * 127, np.int32)


_ZERO_U8, _ZERO_I8 = np.uint8(0), np.int8(0)


def _qlinear_matmul():
    x, w, y_scale = np.full((1, 64), 255, np.uint8), np.full((64, 4), 127, np.int8), 1 / 16384
    inits = {"xs": np.float32(1), "xz": _ZERO_U8, "w": w, "ws": np.float32(1), "wz": _ZERO_I8,
             "ys": np.float32(1 / y_scale), "yz": _ZERO_U8}
    node = helper.make_node("QLinearMatMul", ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz"], ["y"])
    model = _model([node], x, TensorProto.UINT8, TensorProto.UINT8, inits)
    return model, x, _requantize(x.astype(np.int32) @ w.astype(np.int32), y_scale)


def _qlinear_conv(out_channels: int, in_channels: int):
    x = np.full((1, in_channels, 5, 5), 255, np.uint8)
    w = np.full((out_channels, in_channels, 3, 3), 127, np.int8)
    y_scale = 1 / (in_channels * 2048)  # the exact sum lands at ~140, a capped one far below
    inits = {"xs": np.float32(1), "xz": _ZERO_U8, "w": w, "ws": np.float32(1), "wz": _ZERO_I8,
             "ys": np.float32(1 / y_scale), "yz": _ZERO_U8}
    node = helper.make_node("QLinearConv", ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz"], ["y"])
    model = _model([node], x, TensorProto.UINT8, TensorProto.UINT8, inits)
    acc = np.full((1, out_channels, 3, 3), in_channels * 9 * 255 * 127, np.int32)
    return model, x, _requantize(acc, y_scale)


def _qdq_gemm():
    """A QDQ Gemm, which onnxruntime fuses into com.microsoft QGemm with a float output."""
    x = np.full((1, 32), 255.0, np.float32)
    w = np.full((32, 4), 127, np.int8)
    nodes = [helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
             helper.make_node("DequantizeLinear", ["xq", "xs", "xz"], ["xf"]),
             helper.make_node("DequantizeLinear", ["w", "ws", "wz"], ["wf"]),
             helper.make_node("Gemm", ["xf", "wf"], ["y"])]
    inits = {"xs": np.float32(1), "xz": _ZERO_U8, "w": w, "ws": np.float32(1), "wz": _ZERO_I8}
    model = _model(nodes, x, TensorProto.FLOAT, TensorProto.FLOAT, inits)
    return model, x, (x.astype(np.int64) @ w.astype(np.int64)).astype(np.float32)


# The integer GEMM and convolution operators (any domain): the inputs that are multiplied, and their zero points.
_PRODUCTS = {"MatMulInteger": ((0, 2), (1, 3)), "ConvInteger": ((0, 2), (1, 3)),
             "QLinearMatMul": ((0, 2), (3, 5)), "QLinearConv": ((0, 2), (3, 5)), "NhwcQLinearConv": ((0, 2), (3, 5)),
             "QGemm": ((0, 2), (3, 5)), "MatMulIntegerToFloat": ((0, 4), (1, 5)), "DynamicQuantizeMatMul": ((1, 3),)}
EXACT_RANGE = 64  # int8 values within +-64: a pair of products with 255 stays within int16


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


_NUMPY_TYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64, "tensor(float16)": np.float16,
                "tensor(uint8)": np.uint8, "tensor(int8)": np.int8, "tensor(int32)": np.int32,
                "tensor(int64)": np.int64}


def _zeros(sess) -> dict[str, np.ndarray]:
    """A zero input for every input of `sess`, free dimensions at 1."""
    return {v.name: np.zeros([d if isinstance(d, int) else 1 for d in v.shape], _NUMPY_TYPES.get(v.type, np.float32))
            for v in sess.get_inputs()}


def uncovered(model: onnx.ModelProto, option: bool = True) -> list[str]:
    """Integer products in the graph onnxruntime runs (with EXACT_OPTION, or without) that a capping CPU may get
    wrong: an int8 operand that is not a constant within +-EXACT_RANGE (the option rewrites only the constant
    weights of the operator versions it knows), unless the probe found that operator exact on this capping CPU
    (ConvInteger, on AVX2). Empty when every product is exact."""
    capped = {case.split()[0] for case in current().capped}
    exact_here = {case.split()[0] for case, *_ in _cases()} - capped if capped else set()
    graph = optimized(model, option).graph
    constants = {init.name: init for init in graph.initializer}
    types = {v.name: v.type.tensor_type.elem_type for v in [*graph.input, *graph.value_info, *graph.output]}
    types.update({name: init.data_type for name, init in constants.items()})
    for node in graph.node:  # a QuantizeLinear's output has its zero point's type (uint8 without one)
        if node.op_type in ("QuantizeLinear", "DynamicQuantizeLinear"):
            zero = node.input[2] if node.op_type == "QuantizeLinear" and len(node.input) > 2 else ""
            types[node.output[0]] = types.get(zero, TensorProto.UINT8) if zero else TensorProto.UINT8
    found = []
    for node in graph.node:
        for value, zero in () if node.op_type in exact_here else _PRODUCTS.get(node.op_type, ()):
            name = node.input[value] if value < len(node.input) else ""
            zero_name = node.input[zero] if zero < len(node.input) else ""
            kind = types.get(name) or types.get(zero_name)
            if kind == TensorProto.UINT8:
                continue
            if kind == TensorProto.INT8 and name in constants:
                values = numpy_helper.to_array(constants[name]).astype(np.int16)
                if values.size == 0 or np.abs(values).max() <= EXACT_RANGE:
                    continue
            found.append(f"{node.op_type} {node.name or name}")
    return found


def integer_arithmetic(model: onnx.ModelProto) -> bool:
    """Whether onnxruntime runs integer products for `model` (QLinearConv, QGemm, MatMulInteger...), rather than
    folding its int8 weights back to float (int8 codes behind a DequantizeLinear, float arithmetic)."""
    return any(node.op_type in _PRODUCTS for node in optimized(model, option=False).graph.node)


def optimized(model: onnx.ModelProto, option: bool = True) -> onnx.ModelProto:
    """The graph a session runs, as onnxruntime rewrites it (with EXACT_OPTION, or without)."""
    with tempfile.TemporaryDirectory(prefix="edgeshrink-engine-") as tmp:
        opts = options(exact=option, threads=1)
        opts.optimized_model_filepath = str(Path(tmp) / "optimized.onnx")
        ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
        return onnx.load(opts.optimized_model_filepath)
