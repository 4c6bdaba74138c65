"""Torch implementations of the ONNX operators that the `torchgraph` interpreter can run."""

from __future__ import annotations

import math

import numpy as np
import onnx
import torch
import torch.nn.functional as F


def _pads(a: dict, size, kernel, strides, dilations) -> list[int]:
    """ONNX pads [begin..., end...] for a window op, auto_pad resolved against the input `size`."""
    auto = a.get("auto_pad", "NOTSET")
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        begins, ends = [], []
        for i, k, s, d in zip(size, kernel, strides, dilations):
            total = max(0, (math.ceil(i / s) - 1) * s + (k - 1) * d + 1 - i)
            begin = total // 2 if auto == "SAME_UPPER" else total - total // 2
            begins.append(begin)
            ends.append(total - begin)
        return begins + ends
    if auto == "VALID":
        return [0] * 2 * len(kernel)
    return list(a.get("pads", [0] * 2 * len(kernel)))


def _pad_input(x, pads: list[int], value: float = 0.0, mode: str = "constant"):
    """Pad the trailing len(pads)/2 dimensions with ONNX-ordered pads."""
    rank = len(pads) // 2
    flat = []
    for i in reversed(range(rank)):
        flat += [pads[i], pads[i + rank]]
    if not any(flat):
        return x
    while flat[-2:] == [0, 0]:  # torch pads the trailing dims only: drop untouched leading ones
        flat = flat[:-2]
    return F.pad(x, flat, mode=mode, value=value) if mode == "constant" else F.pad(x, flat, mode=mode)


def _window(a: dict, x, kernel):
    rank = len(kernel)
    strides = a.get("strides", [1] * rank)
    dilations = a.get("dilations", [1] * rank)
    return strides, dilations, _pads(a, x.shape[2:], kernel, strides, dilations)


def _conv(a, x, w, b=None):
    strides, dilations, pads = _window(a, x, w.shape[2:])
    conv = (F.conv1d, F.conv2d, F.conv3d)[w.dim() - 3]
    half = len(pads) // 2
    if pads[:half] == pads[half:]:  # symmetric: let the convolution pad, which is faster
        return conv(x, w, b, strides, pads[:half], dilations, a.get("group", 1))
    return conv(_pad_input(x, pads), w, b, strides, 0, dilations, a.get("group", 1))


def _max_pool(a, x):
    kernel = a["kernel_shape"]
    strides, dilations, pads = _window(a, x, kernel)
    pool = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[len(kernel) - 1]
    return pool(_pad_input(x, pads, -math.inf), kernel, strides, 0, dilations, bool(a.get("ceil_mode", 0)))


def _average_pool(a, x):
    kernel = a["kernel_shape"]
    strides, _, pads = _window(a, x, kernel)
    pool = (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)[len(kernel) - 1]
    ceil = bool(a.get("ceil_mode", 0))
    summed = pool(_pad_input(x, pads), kernel, strides, 0, ceil, True)
    if a.get("count_include_pad", 0) or not any(pads):
        return summed
    # padding excluded from the count: divide by the share of each window that lies on real pixels
    share = pool(_pad_input(torch.ones_like(x[:1, :1]), pads), kernel, strides, 0, ceil, True)
    return summed / share


def _gemm(a, A, B, C=None):
    A = A.transpose(0, 1) if a.get("transA", 0) else A
    B = B.transpose(0, 1) if a.get("transB", 0) else B
    y = A @ B if a.get("alpha", 1.0) == 1.0 else a["alpha"] * (A @ B)
    if C is None:
        return y
    return y + (C if a.get("beta", 1.0) == 1.0 else a["beta"] * C)


def _softmax(fn, a, x, version: int):
    if version >= 13:
        return fn(x, dim=a.get("axis", -1))
    axis = a.get("axis", 1) % x.dim()  # before opset 13: the tail from `axis` on is one flat row
    rows = math.prod(x.shape[:axis])
    return fn(x.reshape(rows, -1), dim=1).reshape(x.shape)


def _reshape(a, x, shape):
    target = [int(v) for v in shape.tolist()]
    if not a.get("allowzero", 0):
        target = [x.shape[i] if v == 0 else v for i, v in enumerate(target)]
    if a.get("_batch") and target and target[0] == a["_batch"] and x.dim() > 1:
        target[0] = x.shape[0]  # a batch fixed at export follows the batch actually fed
    # (a 1-D tensor has no batch to follow: it is one image's features, as a batch-1 export's
    # Reshape to [1, n] before a Gemm reads them)
    return x.reshape(target)


def _axes(a, given=None) -> list[int] | None:
    return [int(v) for v in given.tolist()] if given is not None else a.get("axes")


def _squeeze(a, x, axes=None):
    axes = _axes(a, axes)
    if axes is None:
        return x.squeeze()
    for axis in sorted((ax % x.dim() for ax in axes), reverse=True):
        x = x.squeeze(axis)
    return x


def _unsqueeze(a, x, axes=None):
    axes = _axes(a, axes)
    rank = x.dim() + len(axes)
    for axis in sorted(ax % rank for ax in axes):
        x = x.unsqueeze(axis)
    return x


def _pad(a, x, pads=None, value=None, axes=None):
    pads = [int(v) for v in pads.tolist()] if pads is not None else list(a["pads"])
    if axes is not None:  # opset 18: pads only for the listed axes
        chosen = [int(v) % x.dim() for v in axes.tolist()]
        full = [0] * 2 * x.dim()
        for j, axis in enumerate(chosen):
            full[axis], full[axis + x.dim()] = pads[j], pads[j + len(chosen)]
        pads = full
    fill = float(value.reshape(-1)[0]) if value is not None and value.numel() else a.get("value", 0.0)
    mode = {"edge": "replicate", "wrap": "circular"}.get(a.get("mode", "constant"), a.get("mode", "constant"))
    return _pad_input(x, pads, fill, mode)


def _gather(a, x, idx):
    axis = a.get("axis", 0) % x.dim()
    picked = torch.index_select(x, axis, (idx.reshape(-1) % x.shape[axis]).long())
    return picked.reshape(x.shape[:axis] + idx.shape + x.shape[axis + 1:])


def _clip(a, x, low=None, high=None):
    low = float(low) if low is not None else a.get("min")
    high = float(high) if high is not None else a.get("max")
    return torch.clamp(x, low, high)


def _div(a, x, y):
    if x.dtype.is_floating_point:
        return x / y
    return torch.div(x, y, rounding_mode="trunc")


def _shape(a, x):
    return torch.tensor(x.shape[a.get("start", 0):a.get("end", None)], dtype=torch.int64)


def _dtype(onnx_type: int):
    return torch.from_numpy(np.empty(0, onnx.helper.tensor_dtype_to_np_dtype(onnx_type))).dtype


# op_type -> fn(attributes, *inputs), inputs in ONNX order with None for an omitted optional one.
# GraphModule adds `_opset` (the model's opset) and `_batch` (a batch fixed at export) to the attributes.
OPS = {
    "Conv": _conv,
    "MaxPool": _max_pool,
    "AveragePool": _average_pool,
    "GlobalAveragePool": lambda a, x: x.mean(dim=tuple(range(2, x.dim())), keepdim=True),
    "BatchNormalization": lambda a, x, s, b, m, v: F.batch_norm(x, m, v, s, b, False, 0.0, a.get("epsilon", 1e-5)),
    "Gemm": _gemm,
    "MatMul": lambda a, x, y: x @ y,
    "Add": lambda a, x, y: x + y,
    "Sub": lambda a, x, y: x - y,
    "Mul": lambda a, x, y: x * y,
    "Div": _div,
    "Relu": lambda a, x: F.relu(x),
    "LeakyRelu": lambda a, x: F.leaky_relu(x, a.get("alpha", 0.01)),
    "Sigmoid": lambda a, x: torch.sigmoid(x),
    "Tanh": lambda a, x: torch.tanh(x),
    "Softmax": lambda a, x: _softmax(torch.softmax, a, x, a["_opset"]),
    "LogSoftmax": lambda a, x: _softmax(torch.log_softmax, a, x, a["_opset"]),
    "Reshape": _reshape,
    "Flatten": lambda a, x: x.reshape(math.prod(x.shape[:a.get("axis", 1) % (x.dim() or 1)]), -1),
    "Transpose": lambda a, x: x.permute(a.get("perm", list(reversed(range(x.dim()))))),
    "Squeeze": _squeeze,
    "Unsqueeze": _unsqueeze,
    "Identity": lambda a, x: x,
    "Dropout": lambda a, x, *rest: x,  # inference: dropout does nothing
    "Pad": _pad,
    "Concat": lambda a, *xs: torch.cat(xs, dim=a["axis"]),
    "Shape": _shape,
    "Gather": _gather,
    "Cast": lambda a, x: x.to(_dtype(a["to"])),
    "Clip": _clip,
    "ArgMax": lambda a, x: torch.argmax(x, dim=a.get("axis", 0), keepdim=bool(a.get("keepdims", 1))),
}
