"""Which integer products of a graph a capping CPU may get wrong, read off the graph onnxruntime really runs."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, numpy_helper

from edgeshrink.engine.probe import cases, options

# The integer GEMM and convolution operators (any domain): the inputs that are multiplied, and their zero points.
_PRODUCTS = {"MatMulInteger": ((0, 2), (1, 3)), "ConvInteger": ((0, 2), (1, 3)),
             "QLinearMatMul": ((0, 2), (3, 5)), "QLinearConv": ((0, 2), (3, 5)), "NhwcQLinearConv": ((0, 2), (3, 5)),
             "QGemm": ((0, 2), (3, 5)), "MatMulIntegerToFloat": ((0, 4), (1, 5)), "DynamicQuantizeMatMul": ((1, 3),)}
EXACT_RANGE = 64  # int8 values within +-64: a pair of products with 255 stays within int16


def uncovered(model: onnx.ModelProto, capped: list[str], option: bool = True) -> list[str]:
    """Integer products in the graph onnxruntime runs (with EXACT_OPTION, or without) that a capping CPU may get
    wrong: an int8 operand that is not a constant within +-EXACT_RANGE (the option rewrites only the constant
    weights of the operator versions it knows), unless the probe found that operator exact on a CPU that caps
    the `capped` cases (ConvInteger, on AVX2). Empty when every product is exact."""
    families = {case.split()[0] for case in capped}
    exact_here = {case.split()[0] for case, *_ in cases()} - families if families else set()
    graph = optimized(model, option).graph
    constants = {init.name: init for init in graph.initializer}
    types = {v.name: v.type.tensor_type.elem_type for v in [*graph.input, *graph.value_info, *graph.output]}
    types.update({name: init.data_type for name, init in constants.items()})
    for node in graph.node:  # a QuantizeLinear's output has its zero point's type (uint8 without one)
        if node.op_type in ("QuantizeLinear", "DynamicQuantizeLinear"):
            zero = node.input[2] if node.op_type == "QuantizeLinear" and len(node.input) > 2 else ""
            types[node.output[0]] = types.get(zero, TensorProto.UINT8) if zero else TensorProto.UINT8
    found = []
    for node in graph.node:
        for value, zero in () if node.op_type in exact_here else _PRODUCTS.get(node.op_type, ()):
            name = node.input[value] if value < len(node.input) else ""
            zero_name = node.input[zero] if zero < len(node.input) else ""
            kind = types.get(name) or types.get(zero_name)
            if kind == TensorProto.UINT8:
                continue
            if kind == TensorProto.INT8 and name in constants:
                values = numpy_helper.to_array(constants[name]).astype(np.int16)
                if values.size == 0 or np.abs(values).max() <= EXACT_RANGE:
                    continue
            found.append(f"{node.op_type} {node.name or name}")
    return found


def integer_arithmetic(model: onnx.ModelProto) -> bool:
    """Whether onnxruntime runs integer products for `model` (QLinearConv, QGemm, MatMulInteger...), rather than
    folding its int8 weights back to float (int8 codes behind a DequantizeLinear, float arithmetic)."""
    return any(node.op_type in _PRODUCTS for node in optimized(model, option=False).graph.node)


def optimized(model: onnx.ModelProto, option: bool = True) -> onnx.ModelProto:
    """The graph a session runs, as onnxruntime rewrites it (with EXACT_OPTION, or without)."""
    with tempfile.TemporaryDirectory(prefix="edgeshrink-engine-") as tmp:
        opts = options(exact=option, threads=1)
        opts.optimized_model_filepath = str(Path(tmp) / "optimized.onnx")
        ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
        return onnx.load(opts.optimized_model_filepath)
