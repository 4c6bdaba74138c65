"""Sliding-window geometry shared by Conv, the pools and their integer forms: 2-D, NCHW."""

from __future__ import annotations

from dataclasses import dataclass

import onnx

from edgeshrink.runtime.kernels.base import attr, unsupported


@dataclass(frozen=True)
class Window:
    n: int
    c: int
    h: int
    w: int
    kh: int
    kw: int
    sh: int
    sw: int
    dh: int
    dw: int
    pt: int  # pad top
    pl: int  # pad left
    pb: int  # pad bottom
    pr: int  # pad right
    oh: int
    ow: int

    def loops(self, inner: str, acc_init: str, acc_type: str, finish: str, channel: str = "c") -> str:
        """For every output position of channel `channel`: init, visit the window (skipping padding), finish.

        `inner` reads `ih`, `iw` (in bounds); `finish` writes from `acc` at output offset `o`."""
        return (
            f"for (int oy = 0; oy < {self.oh}; oy++) for (int ox = 0; ox < {self.ow}; ox++) {{"
            f" {acc_type} acc = {acc_init}; int cnt = 0; (void)cnt;"
            f" for (int ky = 0; ky < {self.kh}; ky++) {{ int ih = oy*{self.sh} - {self.pt} + ky*{self.dh};"
            f"  if (ih < 0 || ih >= {self.h}) continue;"
            f"  for (int kx = 0; kx < {self.kw}; kx++) {{ int iw = ox*{self.sw} - {self.pl} + kx*{self.dw};"
            f"   if (iw < 0 || iw >= {self.w}) continue; cnt++; {inner} }} }}"
            f" int o = oy*{self.ow} + ox; {finish} }}"
        )


def window(node: onnx.NodeProto, x_shape, kernel=None, out_shape=None) -> Window:
    """The geometry of a 2-D window op on input `x_shape` (N, C, H, W)."""
    if len(x_shape) != 4:
        raise unsupported(node, f"on a rank-{len(x_shape)} input (only 2-D images, NCHW)")
    n, c, h, w = x_shape
    kh, kw = kernel or attr(node, "kernel_shape")
    sh, sw = attr(node, "strides", [1, 1])
    dh, dw = attr(node, "dilations", [1, 1])
    pads = list(attr(node, "pads", [0, 0, 0, 0]))
    auto_pad = attr(node, "auto_pad", "NOTSET")
    ceil = attr(node, "ceil_mode", 0)
    ekh, ekw = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        oh, ow = -(-h // sh), -(-w // sw)
        ph = max((oh - 1) * sh + ekh - h, 0)
        pw = max((ow - 1) * sw + ekw - w, 0)
        top, left = (ph // 2, pw // 2) if auto_pad == "SAME_UPPER" else (ph - ph // 2, pw - pw // 2)
        pads = [top, left, ph - top, pw - left]
    elif auto_pad == "VALID":
        pads = [0, 0, 0, 0]
    elif auto_pad != "NOTSET":
        raise unsupported(node, f"with auto_pad {auto_pad}")
    oh = _out(h + pads[0] + pads[2], ekh, sh, ceil)
    ow = _out(w + pads[1] + pads[3], ekw, sw, ceil)
    if ceil:  # the last window must start inside the input or the left padding
        oh -= (oh - 1) * sh >= h + pads[0]
        ow -= (ow - 1) * sw >= w + pads[1]
    if out_shape is not None and tuple(out_shape[2:]) != (oh, ow):
        raise unsupported(node, f"output {tuple(out_shape[2:])} disagrees with the window geometry {(oh, ow)}")
    return Window(n, c, h, w, kh, kw, sh, sw, dh, dw, pads[0], pads[1], pads[2], pads[3], oh, ow)


def _out(size: int, extent: int, stride: int, ceil: int) -> int:
    return (-(-(size - extent) // stride) if ceil else (size - extent) // stride) + 1
