"""Static int8: QuantizeLinear, DequantizeLinear, QLinearConv, QLinearMatMul and com.microsoft QGemm,
with onnxruntime's arithmetic: exact int32 sums, then float(sum) * (x_scale * w_scale / y_scale) per
output channel, clamped, rounded half to even and shifted by the zero point (MlasRequantizeOutput)."""

from __future__ import annotations

import numpy as np

from edgeshrink.runtime.kernels.base import array_init, attr, flit, inputs, output, scalar, unsupported
from edgeshrink.runtime.kernels.conv import conv_loops, int16_input
from edgeshrink.runtime.kernels.gemm import batched_shapes
from edgeshrink.runtime.kernels.intgemm import int_conv, int_matmul
from edgeshrink.runtime.kernels.window import window

RANGES = {np.dtype("uint8"): (0, 255), np.dtype("int8"): (-128, 127)}


def _zero_point(prog, node, pos: int, count: int = 1) -> np.ndarray:
    if len(node.input) <= pos or not node.input[pos]:
        return np.zeros(count, dtype=np.int32)
    return scalar(prog, node.input[pos], "zero point", node).astype(np.int32).reshape(-1)


def _axis_index(node, x, scale) -> str:
    """C index of the scale for element i: 0 per tensor, else the element's position along `axis`."""
    if scale.size == 1:
        return "0"
    axis = attr(node, "axis", 1) % len(x.shape)
    inner = int(np.prod(x.shape[axis + 1:], dtype=np.int64))
    return f"(i / {inner}) % {x.shape[axis]}"


def emit_quantize(node, prog) -> str:
    x = inputs(node, prog)[0]
    scale = scalar(prog, node.input[1], "scale", node).astype(np.float32).reshape(-1)
    y = output(node, prog)
    zp = _zero_point(prog, node, 2, scale.size)
    lo, hi = RANGES[y.dtype]
    k = _axis_index(node, x, scale)
    return (f"static const float s[] = {array_init(scale)}; static const int32_t z[] = {array_init(zp)};"
            f" for (int i = 0; i < {x.size}; i++) {{ int c = {k};"
            f" {prog.ptr(y.name)}[i] = ({y.ctype})rt_requant({prog.ptr(x.name)}[i] / s[c], z[c], {lo}, {hi}); }}")


def emit_dequantize(node, prog) -> str:
    x = inputs(node, prog)[0]
    if prog.const(node.input[1]) is None:  # a scale computed at run time (DynamicQuantizeLinear's)
        y = output(node, prog)
        zp = f"(int32_t){prog.ptr(node.input[2])}[0]" if len(node.input) > 2 and node.input[2] else "0"
        return (f"float s = {prog.ptr(node.input[1])}[0]; int32_t z = {zp};"
                f" for (int i = 0; i < {x.size}; i++) {prog.ptr(y.name)}[i] = (float)((int32_t){prog.ptr(x.name)}[i] - z) * s;")
    scale = scalar(prog, node.input[1], "scale", node).astype(np.float32).reshape(-1)
    y = output(node, prog)
    zp = _zero_point(prog, node, 2, scale.size)
    if scale.size == 1 and x.dtype in RANGES:  # one shared loop: a model dequantizes every layer's weights
        return (f"rt_dequant_{'u8' if x.dtype == np.uint8 else 's8'}({prog.ptr(y.name)}, {prog.ptr(x.name)},"
                f" {x.size}, {flit(scale[0])}, {int(zp[0])});")
    k = _axis_index(node, x, scale)
    return (f"static const float s[] = {array_init(scale)}; static const int32_t z[] = {array_init(zp)};"
            f" for (int i = 0; i < {x.size}; i++) {{ int c = {k};"
            f" {prog.ptr(y.name)}[i] = (float)((int32_t){prog.ptr(x.name)}[i] - z[c]) * s[c]; }}")


def output_scales(prog, node, a_scale: int, b_scale: int, y_scale: int | None, alpha: float = 1.0) -> np.ndarray:
    """onnxruntime's per-channel requantization scales, in its float order: (alpha * a * b) / y."""
    a = np.float32(scalar(prog, node.input[a_scale], "input scale", node).reshape(-1)[0])
    b = scalar(prog, node.input[b_scale], "weight scale", node).astype(np.float32).reshape(-1)
    out = (np.float32(alpha) * a * b) if alpha != 1.0 else a * b
    if y_scale is not None:
        out = out / np.float32(scalar(prog, node.input[y_scale], "output scale", node).reshape(-1)[0])
    return out.astype(np.float32)


def emit_qlinearconv(node, prog) -> str:
    x, _, _, w = inputs(node, prog)[:4]
    y = output(node, prog)
    scales = output_scales(prog, node, 1, 4, 6)
    x_zp = int(_zero_point(prog, node, 2)[0])
    w_zp = _zero_point(prog, node, 5, w.shape[0])
    y_zp = int(_zero_point(prog, node, 7)[0])
    bias = f"{prog.ptr(node.input[8])}[m]" if len(node.input) > 8 and node.input[8] else "0"
    wz = "0" if not w_zp.any() else "wz[m]"
    lo, hi = RANGES[y.dtype]
    finish = f"ym[o] = ({y.ctype})rt_requant((float)acc * sc[{'m' if scales.size > 1 else 0}], {y_zp}, {lo}, {hi});"
    if not w_zp.any():  # symmetric int8 weights: one SIMD matrix-vector product per output position
        fast = int_conv(node, prog, x, w, y, window(node, x.shape, w.shape[2:], y.shape), attr(node, "group", 1),
                        str(x_zp), bias, finish)
        if fast:
            return f"static const float sc[] = {array_init(scales)}; {fast}"
    shift, buf = int16_input(prog, x, str(x_zp))
    loops = conv_loops(node, prog, x, w, y, "int32_t", bias, "{}", f"(int32_t){{}} - {wz}", finish, "int16_t",
                       x_src=(buf, "int16_t"))
    return (f"static const float sc[] = {array_init(scales)}; static const int32_t wz[] = {array_init(w_zp)};"
            f" (void)wz; {shift} {loops}")


def _gemm_finish(y, scales, y_zp: int | None, n: int) -> str:
    """Store the int32 sums in `y` (m rows of n): requantized, or float(acc) * scale for float outputs."""
    k = "nn" if scales.size > 1 else "0"
    if y.dtype == np.float32:
        store = f"ys[i] = (float)acc[i] * sc[{k}];"
    else:
        lo, hi = RANGES[y.dtype]
        store = f"ys[i] = ({y.ctype})rt_requant((float)acc[i] * sc[{k}], {y_zp}, {lo}, {hi});"
    return f"for (int i = 0; i < {y.size}; i++) {{ int nn = i % {n}; (void)nn; {store} }}"


def emit_qgemm(node, prog) -> str:
    a, _, _, b = inputs(node, prog)[:4]
    y = output(node, prog)
    ta, tb = bool(attr(node, "transA", 0)), bool(attr(node, "transB", 0))
    m, k = (a.shape[1], a.shape[0]) if ta else a.shape
    n = b.shape[0] if tb else b.shape[1]
    has_y = len(node.input) > 7 and node.input[7]
    scales = output_scales(prog, node, 1, 4, 7 if has_y else None, attr(node, "alpha", 1.0))
    a_zp, b_zp = int(_zero_point(prog, node, 2)[0]), _zero_point(prog, node, 5, n)
    if b_zp.size > 1 and b_zp.any():
        raise unsupported(node, "with per-column weight zero points")
    y_zp = int(_zero_point(prog, node, 8)[0]) if has_y else None
    acc = f"acc_{y.sym}"
    code = int_matmul(prog, prog.ptr(a.name), a.ctype, str(a_zp), b, int(b_zp[0]), acc, m, k, n, ta, tb)
    if len(node.input) > 6 and node.input[6]:
        c = prog[node.input[6]]
        cexpr = f"{prog.ptr(c.name)}[{'i % ' + str(n) if c.size == n else ('0' if c.size == 1 else 'i')}]"
        code += f" for (int i = 0; i < {m * n}; i++) {acc}[i] += {cexpr};"
    return (f"static int32_t {acc}[{m * n}]; static const float sc[] = {array_init(scales)};"
            f" {code} {{ {y.ctype} *ys = {prog.ptr(y.name)}; int32_t *acc = {acc}; {_gemm_finish(y, scales, y_zp, n)} }}")


def emit_qlinearmatmul(node, prog) -> str:
    a, _, _, b = inputs(node, prog)[:4]
    y = output(node, prog)
    batch, m, k, n, b_batched = batched_shapes(node, a.shape, b.shape)
    if batch != 1:
        raise unsupported(node, "with batched weights")
    scales = output_scales(prog, node, 1, 4, 6)
    a_zp, b_zp, y_zp = int(_zero_point(prog, node, 2)[0]), _zero_point(prog, node, 5, n), int(_zero_point(prog, node, 7)[0])
    if b_zp.size > 1 and b_zp.any():
        raise unsupported(node, "with per-column weight zero points")
    acc = f"acc_{y.sym}"
    code = int_matmul(prog, prog.ptr(a.name), a.ctype, str(a_zp), b, int(b_zp[0]), acc, m, k, n, False, False)
    return (f"static int32_t {acc}[{m * n}]; static const float sc[] = {array_init(scales)};"
            f" {code} {{ {y.ctype} *ys = {prog.ptr(y.name)}; int32_t *acc = {acc}; {_gemm_finish(y, scales, y_zp, n)} }}")


KERNELS = {
    ("", "QuantizeLinear"): emit_quantize,
    ("", "DequantizeLinear"): emit_dequantize,
    ("", "QLinearConv"): emit_qlinearconv,
    ("", "QLinearMatMul"): emit_qlinearmatmul,
    ("com.microsoft", "QGemm"): emit_qgemm,
    ("com.microsoft", "QuantizeLinear"): emit_quantize,
    ("com.microsoft", "DequantizeLinear"): emit_dequantize,
}
