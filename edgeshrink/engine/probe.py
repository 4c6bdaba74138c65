"""Capping inputs (every activation 255, every weight 127) through each int8 operator family, in onnxruntime,
against exact integer arithmetic in numpy: which cases a session gets wrong on this CPU."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

EXACT_OPTION = "session.x64quantprecision"


def failing(exact_option: bool) -> list[str]:
    """The probe cases whose output differs from exact integer arithmetic."""
    return [name for name, model, feed, want in cases() if not np.array_equal(_run(model, feed, exact_option), want)]


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


def cases():
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
