"""Conv in float (with onnxruntime's FusedConv: Conv + activation), and the loop nest that QLinearConv and
ConvInteger share: grouped, depthwise, pads, strides, dilations."""

from __future__ import annotations

from edgeshrink.runtime.kernels.activation import fused_activation
from edgeshrink.runtime.kernels.base import attr, inputs, output, unsupported
from edgeshrink.runtime.kernels.window import window


def conv_loops(node, prog, x, w, y, acc_type: str, init: str, x_expr: str, w_expr: str, finish: str) -> str:
    """Direct convolution; per output channel `m`: acc = init, acc += x_expr(xv) * w_expr(wv) over the
    window (padding contributes nothing), then `finish` stores from `acc` into ym[o]."""
    win = window(node, x.shape, w.shape[2:], y.shape)
    groups = attr(node, "group", 1)
    m_per_g, c_per_g = w.shape[0] // groups, w.shape[1]
    xv = f"xg[ic*{win.h * win.w} + ih*{win.w} + iw]"
    wv = f"wm[ic*{win.kh * win.kw} + ky*{win.kw} + kx]"
    inner = (f"for (int ic = 0; ic < {c_per_g}; ic++) acc += ({acc_type})({x_expr.format(xv)})"
             f" * ({acc_type})({w_expr.format(wv)});")
    body = win.loops(inner, init, acc_type, finish)
    return (
        f"for (int n = 0; n < {win.n}; n++) for (int m = 0; m < {w.shape[0]}; m++) {{"
        f" const {x.ctype} *xg = {prog.ptr(x.name)} + n*{win.c * win.h * win.w} + (m/{m_per_g})*{c_per_g * win.h * win.w};"
        f" const {w.ctype} *wm = {prog.ptr(w.name)} + m*{c_per_g * win.kh * win.kw};"
        f" {y.ctype} *ym = {prog.ptr(y.name)} + (n*{w.shape[0]} + m)*{win.oh * win.ow};"
        f" {body} }}"
    )


def emit_conv(node, prog) -> str:
    x, w, b = (inputs(node, prog) + [None])[:3]
    if len(node.input) > 3 and node.input[3]:
        raise unsupported(node, "with a summed input Z")
    y = output(node, prog)
    init = f"{prog.ptr(b.name)}[m]" if b is not None else "0.0f"
    return conv_loops(node, prog, x, w, y, "float", init, "{}", "{}", f"ym[o] = {fused_activation(node, 'acc')};")


KERNELS = {("", "Conv"): emit_conv, ("com.microsoft", "FusedConv"): emit_conv}
