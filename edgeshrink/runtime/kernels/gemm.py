"""Gemm and MatMul in float (+ onnxruntime's FusedGemm/FusedMatMul): y = alpha * A.B + beta * C."""

from __future__ import annotations

import numpy as np

from edgeshrink.runtime.kernels.activation import fused_activation
from edgeshrink.runtime.kernels.base import attr, flit, inputs, output, strides, unsupported


def matmul_loops(a: str, b: str, y: str, m: int, k: int, n: int, trans_a: bool, trans_b: bool,
                 acc_type: str, a_expr: str = "{}", b_expr: str = "{}") -> str:
    """y[m][n] = sum_k a[m][k] * b[k][n] (k ascending), accumulated in `acc_type`.

    `a_expr`/`b_expr` wrap each loaded element (integer kernels subtract zero points there)."""
    ai = f"{a}[kk*{m} + mm]" if trans_a else f"{a}[mm*{k} + kk]"
    if trans_b:  # rows of B are contiguous: one dot product per output
        bi = f"{b}[nn*{k} + kk]"
        return (f"for (int mm = 0; mm < {m}; mm++) for (int nn = 0; nn < {n}; nn++) {{ {acc_type} acc = 0;"
                f" for (int kk = 0; kk < {k}; kk++) acc += ({acc_type})({a_expr.format(ai)}) * ({acc_type})({b_expr.format(bi)});"
                f" {y}[mm*{n} + nn] = acc; }}")
    bi = f"{b}[kk*{n} + nn]"  # rows of the output accumulate together: contiguous, vectorizes
    return (f"for (int mm = 0; mm < {m}; mm++) {{ {acc_type} *row = {y} + mm*{n};"
            f" for (int nn = 0; nn < {n}; nn++) row[nn] = 0;"
            f" for (int kk = 0; kk < {k}; kk++) {{ {acc_type} av = ({acc_type})({a_expr.format(ai)});"
            f"  for (int nn = 0; nn < {n}; nn++) row[nn] += av * ({acc_type})({b_expr.format(bi)}); }} }}")


# onnxruntime packs constant float weights and runs MLAS's packed SGEMM: K in blocks of this many
PACKED_STRIDE_K = 256


def mlas_sgemm_loops(a: str, b: str, y: str, m: int, k: int, n: int, trans_a: bool, trans_b: bool,
                     alpha: float, init: str | None) -> str:
    """y = alpha * A.B (+ the C already in y when `init` stores it) as MLAS's packed SGEMM rounds it: per
    block of K, a chain of fused multiply-adds from zero (k ascending), then added to y (the first block
    stores when there is no C). `init` is C code for y[mm*n + nn] before the first block, or None."""
    ai = f"{a}[kk*{m} + mm]" if trans_a else f"{a}[mm*{k} + kk]"
    bi = f"{b}[nn*{k} + kk]" if trans_b else f"{b}[kk*{n} + nn]"
    scaled = "s" if alpha == 1.0 else f"s * {flit(alpha)}"
    add = "y = s + y;" if alpha == 1.0 else f"y = rt_fmaf(s, {flit(alpha)}, y);"
    first = f"y = {scaled};" if init is None else add
    start = f"float y = {init};" if init is not None else "float y = 0.0f;"
    return (f"for (int mm = 0; mm < {m}; mm++) for (int nn = 0; nn < {n}; nn++) {{ {start}"
            f" for (int k0 = 0; k0 < {k}; k0 += {PACKED_STRIDE_K}) {{ float s = 0.0f;"
            f"  int k1 = rt_min(k0 + {PACKED_STRIDE_K}, {k});"
            f"  for (int kk = k0; kk < k1; kk++) s = rt_fmaf({ai}, {bi}, s);"
            f"  if (k0 == 0) {{ {first} }} else {{ {add} }} }}"
            f" {y}[mm*{n} + nn] = y; }}")


def emit_gemm(node, prog) -> str:
    a, b, c = (inputs(node, prog) + [None])[:3]
    y = output(node, prog)
    ta, tb = bool(attr(node, "transA", 0)), bool(attr(node, "transB", 0))
    m, k = (a.shape[1], a.shape[0]) if ta else a.shape
    n = b.shape[0] if tb else b.shape[1]
    if tb and b.const is not None:  # constant weights stored (K, N): the output row accumulates, vectorized
        b, tb = prog.transposed(b.name), False
    alpha, beta = attr(node, "alpha", 1.0), attr(node, "beta", 1.0)
    if prog.exact_float:  # inside an int8 graph the scores must match onnxruntime's order and rounding
        return _exact_gemm(node, prog, a, b, c, y, (m, k, n, ta, tb), alpha, beta)
    code = matmul_loops(prog.ptr(a.name), prog.ptr(b.name), prog.ptr(y.name), m, k, n, ta, tb, "float")
    term = "ys[i]" if alpha == 1.0 else f"{flit(alpha)} * ys[i]"
    if c is not None:
        cst = _bcast_strides(c.shape, (m, n))
        coef = "" if beta == 1.0 else f"{flit(beta)} * "
        term = f"{term} + {coef}{prog.ptr(c.name)}[(i/{n})*{cst[0]} + (i%{n})*{cst[1]}]"
    act = fused_activation(node, f"({term})")
    return (f"{code} {{ float *ys = {prog.ptr(y.name)};"
            f" for (int i = 0; i < {m * n}; i++) ys[i] = {act}; }}")


def _exact_gemm(node, prog, a, b, c, y, dims, alpha: float, beta: float) -> str:
    """onnxruntime's Gemm: C broadcast into Y (times beta), then the packed SGEMM adds alpha * A.B."""
    m, k, n, ta, tb = dims
    init = None
    if c is not None and beta != 0.0:
        cst = _bcast_strides(c.shape, (m, n))
        init = f"{prog.ptr(c.name)}[mm*{cst[0]} + nn*{cst[1]}]"
        if beta != 1.0:
            init = f"{init} * {flit(beta)}"
    code = mlas_sgemm_loops(prog.ptr(a.name), prog.ptr(b.name), prog.ptr(y.name), m, k, n, ta, tb, alpha, init)
    act = fused_activation(node, "ys[i]")
    if act == "ys[i]":
        return code
    return f"{code} {{ float *ys = {prog.ptr(y.name)}; for (int i = 0; i < {m * n}; i++) ys[i] = {act}; }}"


def _bcast_strides(shape, target) -> list[int]:
    shape = (1,) * (len(target) - len(shape)) + tuple(shape)
    st = strides(shape)
    return [0 if shape[i] == 1 else st[i] for i in range(len(target))]


def batched_shapes(node, a_shape, b_shape):
    """(batch, M, K, N, b_batched) for MatMul's numpy semantics, batch dims only on A (or equal on both)."""
    a2 = (1, *a_shape) if len(a_shape) == 1 else tuple(a_shape)
    b2 = (*b_shape, 1) if len(b_shape) == 1 else tuple(b_shape)
    m, k = a2[-2:]
    n = b2[-1]
    batch_a, batch_b = int(np.prod(a2[:-2], dtype=np.int64)), int(np.prod(b2[:-2], dtype=np.int64))
    if batch_b not in (1, batch_a) or (batch_b > 1 and a2[:-2] != b2[:-2]):
        raise unsupported(node, f"with batch broadcasting {a_shape} x {b_shape}")
    if batch_b == 1:  # fold A's batch into its rows: one larger product
        return 1, batch_a * m, k, n, False
    return batch_a, m, k, n, True


def emit_matmul(node, prog) -> str:
    a, b = inputs(node, prog)[:2]
    y = output(node, prog)
    ta, tb = bool(attr(node, "transA", 0)), bool(attr(node, "transB", 0))
    if ta or attr(node, "transBatchA", 0) or attr(node, "transBatchB", 0):
        raise unsupported(node, "with transposed A")
    b_shape = tuple(b.shape[:-2]) + (b.shape[-1], b.shape[-2]) if tb else b.shape
    batch, m, k, n, b_batched = batched_shapes(node, a.shape, b_shape)
    code = []
    for i in range(batch):
        bp = f"{prog.ptr(b.name)} + {i * k * n if b_batched else 0}"
        if prog.exact_float:  # MLAS's packed SGEMM order inside an int8 graph (alpha applied there)
            code.append(mlas_sgemm_loops(f"({prog.ptr(a.name)} + {i * m * k})", f"({bp})",
                                         f"({prog.ptr(y.name)} + {i * m * n})", m, k, n, False, tb,
                                         attr(node, "alpha", 1.0), None))
            continue
        code.append(matmul_loops(f"({prog.ptr(a.name)} + {i * m * k})", f"({bp})",
                                 f"({prog.ptr(y.name)} + {i * m * n})", m, k, n, False, tb, "float"))
    alpha = attr(node, "alpha", 1.0)
    if alpha != 1.0 and not prog.exact_float:
        code.append(f"for (int i = 0; i < {y.size}; i++) {prog.ptr(y.name)}[i] *= {flit(alpha)};")
    return " ".join(code)


KERNELS = {
    ("", "Gemm"): emit_gemm,
    ("com.microsoft", "FusedGemm"): emit_gemm,
    ("", "MatMul"): emit_matmul,
    ("com.microsoft", "FusedMatMul"): emit_matmul,
}
