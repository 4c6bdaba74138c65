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
