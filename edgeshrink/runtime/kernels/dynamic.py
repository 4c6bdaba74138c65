"""Dynamic int8: DynamicQuantizeLinear, ConvInteger, MatMulInteger, and the com.microsoft
DynamicQuantizeMatMul / MatMulIntegerToFloat that onnxruntime fuses them into.

The activation's scale and zero point are found per run as onnxruntime does: min/max widened to include
0, scale = (max - min) / 255, zero point = round_half_even(clamp(0 - min / scale, 0, 255))."""

from __future__ import annotations

import numpy as np

from edgeshrink.runtime.kernels.base import array_init, attr, inputs, output, scalar, unsupported
from edgeshrink.runtime.kernels.conv import conv_loops, int16_input
from edgeshrink.runtime.kernels.gemm import batched_shapes
from edgeshrink.runtime.kernels.intgemm import int_conv, int_matmul
from edgeshrink.runtime.kernels.window import window


def _quantize_u8(src: str, dst: str, count: int, scale: str, zp: str) -> str:
    """C computing `scale`/`zp` (float/int32 variables) from src[count] and writing uint8 dst."""
    return (f"float mn = 0.0f, mx = 0.0f; for (int i = 0; i < {count}; i++) {{ mn = rt_minf(mn, {src}[i]);"
            f" mx = rt_maxf(mx, {src}[i]); }}"
            f" float {scale} = mx == mn ? 1.0f : (mx - mn) / 255.0f;"
            f" int32_t {zp} = (int32_t)__builtin_rintf(rt_clip(0.0f - mn / {scale}, 0.0f, 255.0f));"
            f" for (int i = 0; i < {count}; i++) {dst}[i] = (uint8_t)rt_requant({src}[i] / {scale}, {zp}, 0, 255);")


def emit_dynamic_quantize(node, prog) -> str:
    x = inputs(node, prog)[0]
    y, s, z = output(node, prog), output(node, prog, (), np.float32, 1), output(node, prog, (), np.uint8, 2)
    return (f"{_quantize_u8(prog.ptr(x.name), prog.ptr(y.name), x.size, 'scale', 'zp')}"
            f" {prog.ptr(s.name)}[0] = scale; {prog.ptr(z.name)}[0] = (uint8_t)zp;")


def _zp(prog, node, pos: int) -> str:
    """A zero point as a C expression: constant when known, else read from its tensor."""
    if len(node.input) <= pos or not node.input[pos]:
        return "0"
    value = prog.const(node.input[pos])
    if value is None:
        return f"(int32_t){prog.ptr(node.input[pos])}[0]"
    if value.size > 1 and np.any(value != value.reshape(-1)[0]):
        raise unsupported(node, "with per-channel zero points")
    return str(int(value.reshape(-1)[0]))


def _const_zp(prog, node, pos: int) -> int:
    """A weight zero point, which the integer product needs as a constant."""
    zp = _zp(prog, node, pos)
    if not zp.lstrip("-").isdigit():
        raise unsupported(node, "with a computed weight zero point")
    return int(zp)


def emit_conv_integer(node, prog) -> str:
    x, w = inputs(node, prog)[:2]
    y = output(node, prog)
    if _zp(prog, node, 3) == "0":
        fast = int_conv(node, prog, x, w, y, window(node, x.shape, w.shape[2:], y.shape), attr(node, "group", 1),
                        _zp(prog, node, 2), "0", "ym[o] = acc;")
        if fast:
            return fast
    shift, buf = int16_input(prog, x, _zp(prog, node, 2))
    return shift + " " + conv_loops(node, prog, x, w, y, "int32_t", "0", "{}", f"(int32_t){{}} - {_zp(prog, node, 3)}",
                                    "ym[o] = acc;", "int16_t", x_src=(buf, "int16_t"))


def emit_matmul_integer(node, prog) -> str:
    a, b = inputs(node, prog)[:2]
    y = output(node, prog)
    batch, m, k, n, _ = batched_shapes(node, a.shape, b.shape)
    if batch != 1:
        raise unsupported(node, "with batched weights")
    return int_matmul(prog, prog.ptr(a.name), a.ctype, _zp(prog, node, 2), b, _const_zp(prog, node, 3),
                      prog.ptr(y.name), m, k, n, False, False)


def _scale_bias(prog, node, y, n: int, a_scale: str, b_scale_pos: int, bias_pos: int) -> str:
    """float(acc) * (a_scale * b_scale[col]) + bias[col]: MLAS's scale-bias output processor."""
    b_scale = scalar(prog, node.input[b_scale_pos], "weight scale", node).astype(np.float32).reshape(-1)
    bias = f"{prog.ptr(node.input[bias_pos])}[nn]" if len(node.input) > bias_pos and node.input[bias_pos] else None
    k = "nn" if b_scale.size > 1 else "0"
    value = f"(float)acc[i] * ({a_scale} * bs[{k}])"
    return (f"static const float bs[] = {array_init(b_scale)}; float *ys = {prog.ptr(y.name)};"
            f" for (int i = 0; i < {y.size}; i++) {{ int nn = i % {n}; (void)nn;"
            f" ys[i] = {value + ' + ' + bias if bias else value}; }}")


def emit_dynamic_matmul(node, prog) -> str:
    """DynamicQuantizeMatMul(A, B, b_scale, b_zero_point, bias)."""
    a, b = inputs(node, prog)[:2]
    y = output(node, prog)
    batch, m, k, n, _ = batched_shapes(node, a.shape, b.shape)
    if batch != 1:
        raise unsupported(node, "with batched weights")
    q, acc = f"q_{y.sym}", f"acc_{y.sym}"
    gemm = int_matmul(prog, q, "uint8_t", "a_zp", b, _const_zp(prog, node, 3), acc, m, k, n, False, False)
    return (f"static uint8_t {q}[{a.size}]; static int32_t {acc}[{m * n}];"
            f" {_quantize_u8(prog.ptr(a.name), q, a.size, 'a_scale', 'a_zp')} {gemm}"
            f" {{ int32_t *acc = {acc}; {_scale_bias(prog, node, y, n, 'a_scale', 2, 4)} }}")


def emit_matmul_integer_to_float(node, prog) -> str:
    """MatMulIntegerToFloat(A, B, a_scale, b_scale, a_zero_point, b_zero_point, bias)."""
    a, b = inputs(node, prog)[:2]
    y = output(node, prog)
    batch, m, k, n, _ = batched_shapes(node, a.shape, b.shape)
    if batch != 1:
        raise unsupported(node, "with batched weights")
    acc = f"acc_{y.sym}"
    gemm = int_matmul(prog, prog.ptr(a.name), a.ctype, _zp(prog, node, 4), b, _const_zp(prog, node, 5),
                      acc, m, k, n, False, False)
    return (f"static int32_t {acc}[{m * n}]; {gemm} {{ int32_t *acc = {acc};"
            f" float a_scale = {prog.ptr(node.input[2])}[0]; {_scale_bias(prog, node, y, n, 'a_scale', 3, 6)} }}")


KERNELS = {
    ("", "DynamicQuantizeLinear"): emit_dynamic_quantize,
    ("", "ConvInteger"): emit_conv_integer,
    ("", "MatMulInteger"): emit_matmul_integer,
    ("com.microsoft", "DynamicQuantizeMatMul"): emit_dynamic_matmul,
    ("com.microsoft", "MatMulIntegerToFloat"): emit_matmul_integer_to_float,
}
