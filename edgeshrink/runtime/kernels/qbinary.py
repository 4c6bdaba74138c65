"""com.microsoft QLinearAdd and QLinearMul: both inputs dequantized, combined in float, requantized
(MLAS's QLinearBinary semantics: (a - za) * sa op (b - zb) * sb, then / sc, clamp, round half to even)."""

from __future__ import annotations

import numpy as np

from edgeshrink.runtime.kernels.base import broadcast_loops, flit, output, scalar, unsupported
from edgeshrink.runtime.kernels.qlinear import RANGES

_OPS = {"QLinearAdd": "+", "QLinearMul": "*"}


def emit_qbinary(node, prog) -> str:
    a, b = prog[node.input[0]], prog[node.input[3]]
    values = [np.float32(scalar(prog, node.input[i], "scale or zero point", node).reshape(-1)[0])
              if i in (1, 4, 6) else int(scalar(prog, node.input[i], "zero point", node).reshape(-1)[0])
              for i in (1, 2, 4, 5, 6, 7) if len(node.input) > i and node.input[i]]
    if len(values) != 6:
        raise unsupported(node, "without every scale and zero point")
    sa, za, sb, zb, sc, zc = values
    y = output(node, prog, np.broadcast_shapes(a.shape, b.shape), a.dtype)
    lo, hi = RANGES[y.dtype]
    pa, pb, py = prog.ptr(a.name), prog.ptr(b.name), prog.ptr(y.name)
    sym = _OPS[node.op_type]
    return broadcast_loops(y.shape, [a.shape, b.shape], lambda off, o: (
        f"{py}[{o}] = ({y.ctype})rt_requant((((float)((int32_t){pa}[{off[0]}] - {za}) * {flit(sa)})"
        f" {sym} ((float)((int32_t){pb}[{off[1]}] - {zb}) * {flit(sb)})) / {flit(sc)}, {zc}, {lo}, {hi});"))


KERNELS = {("com.microsoft", op): emit_qbinary for op in _OPS}
