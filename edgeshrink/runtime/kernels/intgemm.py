"""The integer matrix product every int8 kernel with constant int8 weights shares (QGemm, QLinearMatMul,
DynamicQuantizeMatMul, MatMulIntegerToFloat, MatMulInteger): the activation shifted to int16 once, the
weights re-laid out at compile time in pairs of rows for wasm SIMD's i32x4.dot_i16x8_s."""

from __future__ import annotations

import numpy as np

from edgeshrink.runtime.kernels.gemm import matmul_loops


def paired_weights(prog, b, trans_b: bool):
    """(tensor of int8 weights in row pairs, padded N) or None when the fast layout does not apply."""
    if b.const is None or b.dtype != np.int8 or b.const.ndim != 2:
        return None
    w = b.const.T if trans_b else b.const  # (K, N)
    k, n = w.shape
    kp, np4 = k + k % 2, -(-n // 4) * 4
    padded = np.zeros((kp, np4), np.int8)
    padded[:k, :n] = w
    pairs = padded.reshape(kp // 2, 2, np4).transpose(0, 2, 1).reshape(-1)  # [k/2][n][k%2]
    return prog.constant(f"{b.name}__pairs", np.ascontiguousarray(pairs)), np4


def int_matmul(prog, a_ptr: str, a_ctype: str, a_zp: str, b, b_zp: int, acc: str, m: int, k: int, n: int,
               trans_a: bool, trans_b: bool) -> str:
    """C that leaves acc[m][n] = sum_k (a - a_zp)(b - b_zp) in int32 (acc is declared by the caller)."""
    fast = None if trans_a or b_zp else paired_weights(prog, b, trans_b)
    if fast is None:
        return matmul_loops(a_ptr, prog.ptr(b.name), acc, m, k, n, trans_a, trans_b, "int32_t",
                            f"(int32_t){{}} - {a_zp}", f"(int32_t){{}} - {b_zp}")
    pairs, np4 = fast
    kp = k + k % 2
    a16, rows = f"{acc}_a16", f"{acc}_rows"
    return (f"static int16_t {a16}[{kp}]; static int32_t {rows}[{np4}];"
            f" for (int mm = 0; mm < {m}; mm++) {{"
            f" for (int kk = 0; kk < {k}; kk++) {a16}[kk] = (int16_t)((int32_t){a_ptr}[mm*{k} + kk] - {a_zp});"
            f" for (int nn = 0; nn < {np4}; nn++) {rows}[nn] = 0;"
            f" rt_gemv_i8({a16}, {pairs.sym}, {rows}, {kp // 2}, {np4});"
            f" for (int nn = 0; nn < {n}; nn++) {acc}[mm*{n} + nn] = {rows}[nn]; }}")


def int_conv(node, prog, x, w, y, win, groups: int, x_zp: str, init: str, finish: str) -> str | None:
    """An integer convolution as one int8 matrix-vector product per output position: the input patch
    (shifted to int16, padding 0) times the weights laid out in row pairs, all output channels of a
    group at once. None when the weights are not constant int8 with zero points of 0."""
    if w.const is None or w.dtype != np.int8:
        return None
    m_all, c_per_g = w.shape[0], w.shape[1]
    m_per_g, k = m_all // groups, c_per_g * win.kh * win.kw
    blocks = [paired_weights(prog, _matrix(prog, w, g, m_per_g, k), trans_b=True) for g in range(groups)]
    pairs = prog.constant(f"{w.name}__conv_pairs", np.concatenate([prog[b.name].const for b, _ in blocks]))
    np4, kp = blocks[0][1], k + k % 2
    col, accv = f"col_{y.sym}", f"accv_{y.sym}"
    gather = (f"int kk = 0; for (int ic = 0; ic < {c_per_g}; ic++) for (int ky = 0; ky < {win.kh}; ky++) {{"
              f" int ih = oy*{win.sh} - {win.pt} + ky*{win.dh}; for (int kx = 0; kx < {win.kw}; kx++, kk++) {{"
              f" int iw = ox*{win.sw} - {win.pl} + kx*{win.dw};"
              f" {col}[kk] = (ih < 0 || ih >= {win.h} || iw < 0 || iw >= {win.w}) ? 0 :"
              f" (int16_t)((int32_t)xg[(ic*{win.h} + ih)*{win.w} + iw] - {x_zp}); }} }}")
    return (
        f"static int16_t {col}[{kp}]; static int32_t {accv}[{np4}];"
        f" for (int n = 0; n < {win.n}; n++) for (int g = 0; g < {groups}; g++) {{"
        f" const {x.ctype} *xg = {prog.ptr(x.name)} + (n*{win.c} + g*{c_per_g})*{win.h * win.w};"
        f" for (int oy = 0; oy < {win.oh}; oy++) for (int ox = 0; ox < {win.ow}; ox++) {{ {gather}"
        f"  for (int i = 0; i < {np4}; i++) {accv}[i] = 0;"
        f"  rt_gemv_i8({col}, {pairs.sym} + g*{kp * np4}, {accv}, {kp // 2}, {np4});"
        f"  int o = oy*{win.ow} + ox;"
        f"  for (int mm = 0; mm < {m_per_g}; mm++) {{ int m = g*{m_per_g} + mm;"
        f"   {y.ctype} *ym = {prog.ptr(y.name)} + (n*{m_all} + m)*{win.oh * win.ow};"
        f"   int32_t acc = {accv}[mm] + ({init}); {finish} }} }} }}"
    )


def _matrix(prog, w, g: int, m_per_g: int, k: int):
    """The (M_g, K) weight matrix of group g as a constant tensor."""
    return prog.constant(f"{w.name}__g{g}", w.const[g * m_per_g:(g + 1) * m_per_g].reshape(m_per_g, k))
