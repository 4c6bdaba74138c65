"""Conv in float (with onnxruntime's FusedConv: Conv + activation), and the loop nest that QLinearConv and
ConvInteger share: grouped, depthwise, pads, strides, dilations."""

from __future__ import annotations

from edgeshrink.runtime.kernels.activation import fused_activation
from edgeshrink.runtime.kernels.base import attr, inputs, output, unsupported
from edgeshrink.runtime.kernels.window import window


def conv_loops(node, prog, x, w, y, acc_type: str, init: str, x_expr: str, w_expr: str, finish: str,
               mul_type: str | None = None, fused: bool = False, x_src: tuple[str, str] | None = None) -> str:
    """Direct convolution, weight-stationary: for each output channel `m` an accumulator plane starts at
    `init`; every weight adds w * x over the output positions whose input is inside the image (padding
    adds nothing), a contiguous row loop the compiler vectorizes; then `finish` stores from `acc` at `o`.
    Integer kernels multiply in `mul_type` int16_t (u8 - zp and s8 fit), which wasm SIMD widens exactly.
    `fused` accumulates with one rounding per multiply-add, in im2col order, as MLAS's SGEMM does.
    `x_src` (pointer, C type) reads the input from another buffer of the same shape."""
    x_ptr, x_ctype = x_src or (prog.ptr(x.name), x.ctype)
    mul_type = mul_type or acc_type
    win = window(node, x.shape, w.shape[2:], y.shape)
    groups = attr(node, "group", 1)
    m_per_g, c_per_g = w.shape[0] // groups, w.shape[1]
    plane = f"plane_{y.sym}"
    xv = x_expr.format(f"xrow[ox*{win.sw} + ({win.dw}*kx - {win.pl})]")
    update = (f"arow[ox] = rt_fmaf({xv}, wv, arow[ox]);" if fused
              else f"arow[ox] += ({acc_type})({mul_type})({xv}) * ({acc_type})wv;")
    return (
        f"static {acc_type} {plane}[{win.oh * win.ow}];"
        f" for (int n = 0; n < {win.n}; n++) for (int m = 0; m < {w.shape[0]}; m++) {{"
        f" const {x_ctype} *xg = {x_ptr} + n*{win.c * win.h * win.w} + (m/{m_per_g})*{c_per_g * win.h * win.w};"
        f" const {w.ctype} *wm = {prog.ptr(w.name)} + m*{c_per_g * win.kh * win.kw};"
        f" {y.ctype} *ym = {prog.ptr(y.name)} + (n*{w.shape[0]} + m)*{win.oh * win.ow};"
        f" for (int o = 0; o < {win.oh * win.ow}; o++) {plane}[o] = {init};"
        f" for (int ic = 0; ic < {c_per_g}; ic++) for (int ky = 0; ky < {win.kh}; ky++) {{"
        f"  int oy0 = rt_ceil_div({win.pt} - {win.dh}*ky, {win.sh}), oy1 = rt_floor_div({win.h - 1 + win.pt} - {win.dh}*ky, {win.sh}) + 1;"
        f"  oy0 = rt_max(oy0, 0); oy1 = rt_min(oy1, {win.oh});"
        f"  for (int kx = 0; kx < {win.kw}; kx++) {{"
        f"   int ox0 = rt_max(rt_ceil_div({win.pl} - {win.dw}*kx, {win.sw}), 0),"
        f" ox1 = rt_min(rt_floor_div({win.w - 1 + win.pl} - {win.dw}*kx, {win.sw}) + 1, {win.ow});"
        f"   {mul_type} wv = ({mul_type})({w_expr.format(f'wm[(ic*{win.kh} + ky)*{win.kw} + kx]')});"
        f"   for (int oy = oy0; oy < oy1; oy++) {{"
        f"    const {x_ctype} *xrow = xg + ic*{win.h * win.w} + (oy*{win.sh} - {win.pt} + {win.dh}*ky)*{win.w};"
        f"    {acc_type} *arow = {plane} + oy*{win.ow};"
        f"    for (int ox = ox0; ox < ox1; ox++) {update} }} }} }}"
        f" for (int o = 0; o < {win.oh * win.ow}; o++) {{ {acc_type} acc = {plane}[o]; {finish} }} }}"
    )


def int16_input(prog, x, zero_point: str) -> tuple[str, str]:
    """C that stores x - zero_point as int16 once (not once per output channel), and the buffer it fills."""
    buf = f"xs16_{x.sym}"
    code = (f"static int16_t {buf}[{x.size}]; for (int i = 0; i < {x.size}; i++)"
            f" {buf}[i] = (int16_t)((int32_t){prog.ptr(x.name)}[i] - {zero_point});")
    return code, buf


def emit_conv(node, prog) -> str:
    x, w, b = (inputs(node, prog) + [None])[:3]
    if len(node.input) > 3 and node.input[3]:
        raise unsupported(node, "with a summed input Z")
    y = output(node, prog)
    bias = f"{prog.ptr(b.name)}[m]" if b is not None else "0.0f"
    if prog.exact_float:  # inside an int8 graph the scores must match: onnxruntime's order and rounding
        return conv_loops(node, prog, x, w, y, "float", "0.0f", "{}", "{}",
                          f"ym[o] = {fused_activation(node, f'(acc + {bias})')};", fused=True)
    return conv_loops(node, prog, x, w, y, "float", bias, "{}", "{}", f"ym[o] = {fused_activation(node, 'acc')};")


KERNELS = {("", "Conv"): emit_conv, ("com.microsoft", "FusedConv"): emit_conv}
