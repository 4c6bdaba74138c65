"""MaxPool (float and 8-bit), AveragePool (count_include_pad), GlobalAveragePool, GlobalMaxPool."""

from __future__ import annotations

import numpy as np

from edgeshrink.runtime.kernels.base import attr, inputs, output, unsupported
from edgeshrink.runtime.kernels.window import window

# onnxruntime's CPU GlobalAveragePool sums a channel in four partial sums (MLAS, as onnxruntime-web does);
# at its full optimization level on an AVX-512 machine (these), channels in blocks of 16 go to the NCHWc
# kernel instead, which sums each channel in order. Followed both ways, the scores are bit-identical.
NCHWC_CHANNELS = 16
_LOWEST = {np.dtype("float32"): "-__builtin_inff()", np.dtype("uint8"): "0", np.dtype("int8"): "-128"}


def _planes(x, y, prog, body: str) -> str:
    """Run `body` once per (image, channel) plane with xp/yp pointing at it."""
    n, c, h, w = x.shape
    plane_out = int(np.prod(y.shape[2:], dtype=np.int64))
    return (f"for (int p = 0; p < {n * c}; p++) {{ const {x.ctype} *xp = {prog.ptr(x.name)} + p*{h * w};"
            f" {y.ctype} *yp = {prog.ptr(y.name)} + p*{plane_out}; {body} }}")


def emit_maxpool(node, prog) -> str:
    x = inputs(node, prog)[0]
    if len(node.output) > 1 and node.output[1]:
        raise unsupported(node, "with an Indices output")
    if x.dtype not in _LOWEST:
        raise unsupported(node, f"on {x.dtype}")
    y = output(node, prog)
    win = window(node, x.shape, None, y.shape)
    body = win.loops(f"{x.ctype} v = xp[ih*{win.w} + iw]; if (v > acc) acc = v;", _LOWEST[x.dtype],
                     x.ctype, "yp[o] = acc;")
    return _planes(x, y, prog, body)


def emit_averagepool(node, prog) -> str:
    """MLAS's vector pooling order: each window column summed over its rows, then the columns added in
    order (padding adds nothing); divided by the window's count, or by its full size with count_include_pad."""
    x = inputs(node, prog)[0]
    y = output(node, prog)
    if x.dtype != np.float32:
        raise unsupported(node, f"on {x.dtype}")
    win = window(node, x.shape, None, y.shape)
    if (win.dh, win.dw) != (1, 1):
        raise unsupported(node, "with dilations")
    # with count_include_pad the padding counts, but not the part of a ceil_mode window beyond it
    divisor = (f"(float)((rt_min(oy*{win.sh} - {win.pt} + {win.kh}, {win.h + win.pb}) - (oy*{win.sh} - {win.pt}))"
               f" * (rt_min(x0 + {win.kw}, {win.w + win.pr}) - x0))"
               if attr(node, "count_include_pad", 0) else "(float)(rows * cols)")
    body = (f"for (int oy = 0; oy < {win.oh}; oy++) {{ int y0 = rt_max(oy*{win.sh} - {win.pt}, 0),"
            f" y1 = rt_min(oy*{win.sh} - {win.pt} + {win.kh}, {win.h}), rows = y1 - y0;"
            f" for (int ox = 0; ox < {win.ow}; ox++) {{ int x0 = ox*{win.sw} - {win.pl}; float acc = 0.0f; int cols = 0;"
            f"  for (int ix = x0; ix < x0 + {win.kw}; ix++) {{ if (ix < 0 || ix >= {win.w}) continue; cols++;"
            f"   float col = xp[y0*{win.w} + ix]; for (int iy = y0 + 1; iy < y1; iy++) col += xp[iy*{win.w} + ix];"
            f"   acc += col; }}"
            f"  yp[oy*{win.ow} + ox] = acc / {divisor}; }} }}")
    return _planes(x, y, prog, body)


def emit_global(node, prog) -> str:
    x = inputs(node, prog)[0]
    y = output(node, prog)
    if x.dtype != np.float32 or len(x.shape) < 3:
        raise unsupported(node, f"on {x.dtype} rank {len(x.shape)}")
    plane = int(np.prod(x.shape[2:], dtype=np.int64))
    if node.op_type == "GlobalAveragePool" and x.shape[1] % NCHWC_CHANNELS == 0:
        body = f"float acc = 0.0f; for (int i = 0; i < {plane}; i++) acc += xp[i]; yp[0] = acc / {plane}.0f;"
    elif node.op_type == "GlobalAveragePool":  # MLAS's order: four partial sums, paired, then the tail
        body = (f"float s0 = 0.0f, s1 = 0.0f, s2 = 0.0f, s3 = 0.0f; int i = 0;"
                f" for (; i + 4 <= {plane}; i += 4) {{ s0 += xp[i]; s1 += xp[i+1]; s2 += xp[i+2]; s3 += xp[i+3]; }}"
                f" float acc = (s0 + s2) + (s1 + s3); for (; i < {plane}; i++) acc += xp[i];"
                f" yp[0] = acc / {plane}.0f;")
    else:
        body = f"float acc = -__builtin_inff(); for (int i = 0; i < {plane}; i++) acc = rt_maxf(acc, xp[i]); yp[0] = acc;"
    n, c = x.shape[:2]
    return (f"for (int p = 0; p < {n * c}; p++) {{ const float *xp = {prog.ptr(x.name)} + p*{plane};"
            f" float *yp = {prog.ptr(y.name)} + p; {body} }}")


KERNELS = {
    ("", "MaxPool"): emit_maxpool,
    ("", "AveragePool"): emit_averagepool,
    ("", "GlobalAveragePool"): emit_global,
    ("", "GlobalMaxPool"): emit_global,
}
