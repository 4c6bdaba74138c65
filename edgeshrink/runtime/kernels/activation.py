"""Elementwise activations in float: Relu, LeakyRelu, Clip, Sigmoid, Tanh, and the ones onnxruntime fuses."""

from __future__ import annotations

import numpy as np

from edgeshrink.runtime.kernels.base import attr, flit, inputs, output, unsupported


def _clip_bounds(node, prog) -> tuple[float, float]:
    lo, hi = attr(node, "min", -np.inf), attr(node, "max", np.inf)
    for pos in (1, 2):
        if len(node.input) > pos and node.input[pos]:
            value = prog.const(node.input[pos])
            if value is None:
                raise unsupported(node, "needs constant bounds")
            if pos == 1:
                lo = float(value.reshape(-1)[0])
            else:
                hi = float(value.reshape(-1)[0])
    return lo, hi


def expr(op: str, v: str, params=()) -> str:
    """C expression of activation `op` applied to float expression `v`."""
    if op == "Relu":
        return f"rt_relu({v})"
    if op == "LeakyRelu":
        alpha = params[0] if params else 0.01
        return f"rt_leaky({v}, {flit(alpha)})"
    if op == "Clip":
        return f"rt_clip({v}, {flit(params[0])}, {flit(params[1])})"
    if op == "Sigmoid":
        return f"rt_sigmoid({v})"
    if op == "Tanh":
        return f"rt_tanh({v})"
    raise KeyError(op)


def fused_activation(node, v: str) -> str:
    """The expression of FusedConv/FusedGemm's `activation` attribute (identity when absent)."""
    op = attr(node, "activation")
    if not op:
        return v
    try:
        return expr(op, v, attr(node, "activation_params", []) or ())
    except KeyError:
        raise unsupported(node, f"with fused activation {op}") from None


def emit_unary(node, prog) -> str:
    x = inputs(node, prog)[0]
    y = output(node, prog, x.shape, x.dtype)
    if x.dtype != np.float32:
        raise unsupported(node, f"on {x.dtype} (float32 only)")
    params = ()
    if node.op_type == "LeakyRelu":
        params = (attr(node, "alpha", 0.01),)
    elif node.op_type == "Clip":
        params = _clip_bounds(node, prog)
    e = expr(node.op_type, "xs[i]", params)
    return (f"const float *xs = {prog.ptr(x.name)}; float *ys = {prog.ptr(y.name)};"
            f" for (int i = 0; i < {x.size}; i++) ys[i] = {e};")


KERNELS = {("", op): emit_unary for op in ("Relu", "LeakyRelu", "Clip", "Sigmoid", "Tanh")}


def emit_batchnorm(node, prog) -> str:
    """Inference BatchNormalization over axis 1: y = (x - mean) / sqrt(var + eps) * scale + bias."""
    x, scale, bias, mean, var = inputs(node, prog)[:5]
    y = output(node, prog, x.shape, x.dtype)
    if len(node.output) > 1 and any(node.output[1:]) or x.dtype != np.float32:
        raise unsupported(node, "in training mode or not on float32")
    c = x.shape[1]
    inner = int(np.prod(x.shape[2:], dtype=np.int64))
    eps = flit(attr(node, "epsilon", 1e-5))
    s, b, m, v = (prog.ptr(t.name) for t in (scale, bias, mean, var))
    return (f"for (int n = 0; n < {x.shape[0]}; n++) for (int ch = 0; ch < {c}; ch++) {{"
            f" float k = {s}[ch] / __builtin_sqrtf({v}[ch] + {eps}), d = {b}[ch] - {m}[ch] * k;"
            f" const float *xs = {prog.ptr(x.name)} + (n*{c} + ch)*{inner}; float *ys = {prog.ptr(y.name)} + (n*{c} + ch)*{inner};"
            f" for (int i = 0; i < {inner}; i++) ys[i] = xs[i] * k + d; }}")


KERNELS[("", "BatchNormalization")] = emit_batchnorm
