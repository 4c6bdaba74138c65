"""Weight codes as the file holds them: a shared-value layer stored as its few values, one byte code per
non-zero weight and the distance from one non-zero weight to the next, decoded by the graph itself.

After `cluster` and `quantize` a weight layer holds at most 2^bits distinct int8 values and mostly zeros.
Dense, every zero costs a byte before compression; here only the non-zero weights are stored: `steps`
(uint8, how far each stored weight lies after the one before) and `codes` (uint8, its index in `book`,
the layer's distinct values with 0 first). A gap longer than 255 is crossed by stored zeros (code 0).
Codes stay whole bytes: gzip and brotli code bytes, and codes bit-packed to 5 bits measured 10-14%
larger after either (bench/packing.md).

The graph decodes them with standard operators (Cast, CumSum, Gather, ConstantOfShape, ScatterElements,
Reshape) whose inputs are all constants: onnxruntime folds them into the dense int8 initializer when a
session starts, before it fuses DequantizeLinear into QLinearConv/QGemm, so the session computes what it
computed for the unpacked file, bit for bit. `unpacked` gives the plain model back for code that reads
weights (parameter counts, passes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MAX_STEP = 255  # uint8
MAX_CODES = 256  # uint8 codes: the zero and at most 255 distinct non-zero values
MIN_OPSET = 11  # CumSum and ScatterElements
_DECODE = ("Cast", "CumSum", "Cast", "Gather", "ConstantOfShape", "ScatterElements", "Reshape")


@dataclass(frozen=True)
class Codes:
    """A tensor as its distinct values (`book`, 0 first), the step to each stored position and its code."""

    book: np.ndarray  # (k,) the tensor's dtype, book[0] == 0 (not for `encode_dense`, which skips no position)
    steps: np.ndarray  # uint8: position i is steps[0] + ... + steps[i]
    codes: np.ndarray  # uint8: the value at position i is book[codes[i]]
    shape: tuple[int, ...]


def encode(values: np.ndarray) -> Codes | None:
    """The codes of `values`, or None when it holds more than MAX_CODES distinct values (zero included)."""
    flat = np.asarray(values).reshape(-1)
    positions = np.flatnonzero(flat)
    distinct = np.unique(flat[positions])
    if len(distinct) >= MAX_CODES:
        return None
    book = np.concatenate([np.zeros(1, flat.dtype), distinct]).astype(flat.dtype)
    gaps = np.diff(positions, prepend=0)  # the first step is the first position itself
    crossings = np.maximum(gaps - 1, 0) // MAX_STEP  # zeros stored MAX_STEP apart inside a long gap
    steps = np.full(len(positions) + int(crossings.sum()), MAX_STEP, np.uint8)
    codes = np.zeros(len(steps), np.uint8)
    last = np.cumsum(crossings + 1) - 1  # where each non-zero weight falls among the stored positions
    steps[last] = gaps - MAX_STEP * crossings
    codes[last] = np.searchsorted(distinct, flat[positions]) + 1
    return Codes(book, steps, codes, tuple(np.shape(values)))


def encode_dense(values: np.ndarray, limit: int = MAX_CODES) -> Codes | None:
    """Every element of `values` as a code (steps all 1 after the first 0: no position is skipped), the codes
    ranked by frequency (0 the most frequent value, so every layer's codes spread alike and brotli's shared
    tables fit them all); None when `values` holds more than `limit` distinct values."""
    flat = np.asarray(values).reshape(-1)
    distinct, index, counts = np.unique(flat, return_inverse=True, return_counts=True)
    if len(distinct) > limit:
        return None
    order = np.argsort(-counts, kind="stable")  # ties keep value order
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    steps = np.ones(flat.size, np.uint8)
    steps[:1] = 0
    return Codes(distinct[order].astype(flat.dtype), steps, rank[index.reshape(-1)].astype(np.uint8),
                 tuple(np.shape(values)))


def decode(codes: Codes) -> np.ndarray:
    """The tensor `codes` stands for (what the graph's decoding computes)."""
    flat = np.zeros(int(np.prod(codes.shape, dtype=np.int64)), codes.book.dtype)
    flat[np.cumsum(codes.steps.astype(np.int64))] = codes.book[codes.codes]
    return flat.reshape(codes.shape)


def pack(model: onnx.ModelProto, name: str, codes: Codes) -> None:
    """Replace initializer `name` of `model` (in place) by `codes` and the nodes that decode them."""
    graph = model.graph
    taken = {i.name for i in graph.initializer} | {o for n in graph.node for o in [*n.input, *n.output]}
    taken |= {v.name for v in [*graph.input, *graph.output]}
    fresh = _fresh(name, taken)
    book, steps, codes_name, size, shape, axis = (next(fresh) for _ in range(6))
    cast_steps, positions, cast_codes, values, zeros, flat = (next(fresh) for _ in range(6))
    init = next(i for i in graph.initializer if i.name == name)
    graph.initializer.remove(init)
    graph.initializer.extend([
        numpy_helper.from_array(codes.book, book), numpy_helper.from_array(codes.steps, steps),
        numpy_helper.from_array(codes.codes, codes_name),
        numpy_helper.from_array(np.array([int(np.prod(codes.shape, dtype=np.int64))], np.int64), size),
        numpy_helper.from_array(np.array(codes.shape, np.int64), shape),
        numpy_helper.from_array(np.array(0, np.int64), axis),
    ])
    zero = helper.make_tensor("", helper.np_dtype_to_tensor_dtype(codes.book.dtype), [1], [0])
    nodes = [
        helper.make_node("Cast", [steps], [cast_steps], to=TensorProto.INT64),
        helper.make_node("CumSum", [cast_steps, axis], [positions]),
        helper.make_node("Cast", [codes_name], [cast_codes], to=TensorProto.INT64),
        helper.make_node("Gather", [book, cast_codes], [values]),
        helper.make_node("ConstantOfShape", [size], [zeros], value=zero),
        helper.make_node("ScatterElements", [zeros, positions, values], [flat]),
        helper.make_node("Reshape", [flat, shape], [name]),
    ]
    rest = list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes + rest)  # decoded before anything reads the weight


def _fresh(base: str, taken: set[str]):
    """Short names not in `taken` (updated): base + a number."""
    i = 0
    while True:
        candidate = f"{base}{i}"
        i += 1
        if candidate not in taken:
            taken.add(candidate)
            yield candidate


def packed_weights(model: onnx.ModelProto) -> dict[str, Codes]:
    """The packed tensors of `model` by the name their decoding writes, as `pack` laid them out."""
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    producer = {o: n for n in graph.node for o in n.output}
    found = {}
    for node in graph.node:
        chain = _chain(node, producer)
        if chain is None:
            continue
        cast_steps, _, cast_codes, gather, _, _, reshape = chain
        arrays = [inits.get(n) for n in (gather.input[0], cast_steps.input[0], cast_codes.input[0], reshape.input[1])]
        if any(a is None for a in arrays):
            continue
        book, steps, codes, shape = (numpy_helper.to_array(a) for a in arrays)
        found[reshape.output[0]] = Codes(book, steps, codes, tuple(int(d) for d in shape))
    return found


def _chain(reshape: onnx.NodeProto, producer: dict) -> list[onnx.NodeProto] | None:
    """The decoding nodes ending in `reshape`, in `_DECODE` order, or None if it is not one."""
    if reshape.op_type != "Reshape":
        return None
    scatter = producer.get(reshape.input[0])
    if scatter is None or scatter.op_type != "ScatterElements" or len(scatter.input) != 3:
        return None
    zeros, cumsum, gather = (producer.get(i) for i in scatter.input)
    cast_steps = producer.get(cumsum.input[0]) if cumsum is not None else None
    cast_codes = producer.get(gather.input[1]) if gather is not None and len(gather.input) > 1 else None
    chain = [cast_steps, cumsum, cast_codes, gather, zeros, scatter, reshape]
    if any(n is None for n in chain) or tuple(n.op_type for n in chain) != _DECODE:
        return None
    return chain


def is_packed(model: onnx.ModelProto) -> bool:
    return bool(packed_weights(model))


def unpacked(model: onnx.ModelProto) -> onnx.ModelProto:
    """`model` with every packed tensor a plain initializer again (`model` itself when none is packed)."""
    found = packed_weights(model)
    if not found:
        return model
    out = onnx.ModelProto()
    out.CopyFrom(model)
    graph = out.graph
    producer = {o: n for n in graph.node for o in n.output}
    decoding = [n for name in found for n in _chain(producer[name], producer)]
    kept = [n for n in graph.node if all(n is not d for d in decoding)]
    del graph.node[:]
    graph.node.extend(kept)
    graph.initializer.extend(numpy_helper.from_array(decode(codes), name) for name, codes in found.items())
    read = {i for n in graph.node for i in n.input} | {o.name for o in graph.output}
    stored = {i for n in decoding for i in n.input} - read  # the codes, steps, books and shapes
    for init in [i for i in graph.initializer if i.name in stored]:
        graph.initializer.remove(init)
    return out
