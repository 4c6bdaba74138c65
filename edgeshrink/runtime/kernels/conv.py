"""Conv in float, with onnxruntime's FusedConv (Conv + activation): grouped, depthwise, pads, strides, dilations."""

from __future__ import annotations

from edgeshrink.runtime.kernels.activation import fused_activation
from edgeshrink.runtime.kernels.base import attr, inputs, output, unsupported
from edgeshrink.runtime.kernels.window import window


def emit_conv(node, prog) -> str:
    x, w, b = (inputs(node, prog) + [None])[:3]
    if len(node.input) > 3 and node.input[3]:
        raise unsupported(node, "with a summed input Z")
    y = output(node, prog)
    win = window(node, x.shape, w.shape[2:], y.shape)
    groups = attr(node, "group", 1)
    m_per_g, c_per_g = w.shape[0] // groups, w.shape[1]
    act = fused_activation(node, "acc")
    bias = f"{prog.ptr(b.name)}[m]" if b is not None else "0.0f"
    inner = (f"for (int ic = 0; ic < {c_per_g}; ic++) acc += xg[ic*{win.h * win.w} + ih*{win.w} + iw]"
             f" * wm[ic*{win.kh * win.kw} + ky*{win.kw} + kx];")
    body = win.loops(inner, bias, "float", f"ym[o] = {act};")
    return (
        f"for (int n = 0; n < {win.n}; n++) for (int m = 0; m < {w.shape[0]}; m++) {{"
        f" const float *xg = {prog.ptr(x.name)} + n*{win.c * win.h * win.w} + (m/{m_per_g})*{c_per_g * win.h * win.w};"
        f" const float *wm = {prog.ptr(w.name)} + m*{c_per_g * win.kh * win.kw};"
        f" float *ym = {prog.ptr(y.name)} + (n*{w.shape[0]} + m)*{win.oh * win.ow};"
        f" {body} }}"
    )


KERNELS = {("", "Conv"): emit_conv, ("com.microsoft", "FusedConv"): emit_conv}
