"""Graph surgery around onnxruntime's quantizer: what the quantize pass does before and after it."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import numpy_helper

from edgeshrink.core.graph import Graph, without_initializer_inputs
from edgeshrink.core.model import clone, describe, opset
from edgeshrink.core.signature import Signature
from edgeshrink.errors import PassError, reason

QUANTIZED_OPS = ("Conv", "MatMul", "Gemm")  # the layers that hold the weights; the rest stays float
MIN_OPSET = 13  # per-channel QuantizeLinear/DequantizeLinear (their axis attribute) need opset 13


def upgrade(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy at opset >= 13 whose initializers are all read and not listed as graph inputs (CNTK exports)."""
    out = clone(model)
    if opset(out) < MIN_OPSET:
        from onnx import version_converter

        try:  # before the inputs are pruned: the converter needs IR 3 weights declared as inputs
            out = version_converter.convert_version(out, MIN_OPSET)
        except Exception as exc:  # the converter raises ConvertError/RuntimeError per adapter
            raise PassError(
                f"cannot upgrade {describe(model)} from opset {opset(out)} to {MIN_OPSET} for quantization: "
                f"{reason(exc)}"
            ) from exc
    out.ir_version = max(out.ir_version, 7)  # opset 13 needs IR 7; IR < 4 needs weights listed as inputs
    out = without_initializer_inputs(out)  # the quantizer leaves weights that are also inputs in float
    Graph(out).drop_unread_initializers()  # else onnxruntime warns on stderr while it calibrates
    return out


def tidy(model: onnx.ModelProto) -> onnx.ModelProto:
    """Name every node (exclusions go by name) and make (1, N) Gemm biases vectors: the quantizer's
    per-channel bias code fails on matrices (ORT pre-processing turns MatMul + Add(1, N) into Gemm)."""
    taken = {node.name for node in model.graph.node}
    g = Graph(model)
    for index, node in enumerate(model.graph.node):
        if not node.name:
            name = f"{node.op_type}_{index}"
            while name in taken:
                name += "_"
            node.name = name
            taken.add(name)
        bias = g.inits.get(node.input[2]) if node.op_type == "Gemm" and len(node.input) > 2 else None
        if bias is not None and len(bias.dims) == 2 and bias.dims[0] == 1 and len(g.consumers[bias.name]) == 1:
            bias.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(bias).reshape(-1), bias.name))
    return model


def score_layers(model: onnx.ModelProto, signature: Signature) -> list[str]:
    """The names of the Conv/MatMul/Gemm layers nearest the class-score output (`tidy` named them)."""
    outputs = [o.name for o in model.graph.output]
    name = signature.output_name or outputs[min(signature.output_index, len(outputs) - 1)]
    return [node.name for node in Graph(model).score_layers(name)]


def feeds_activation(model: onnx.ModelProto, node_name: str) -> bool:
    """Whether the node's output goes through a ReLU or Clip, which QDQ quantization folds into its Q."""
    g = Graph(model)
    node = g.node(node_name)
    return node is not None and any(n.op_type in ("Relu", "Clip") for n, _ in g.consumers.get(node.output[0], []))


def unquantize_output(model: onnx.ModelProto, node_name: str) -> None:
    """Remove the QuantizeLinear -> DequantizeLinear pair after `node_name`, keeping its weights int8."""
    graph = model.graph
    node = next(n for n in graph.node if n.name == node_name)
    quants = [n for n in graph.node if n.op_type == "QuantizeLinear" and n.input[0] == node.output[0]]
    quantized = {q.output[0] for q in quants}
    dequants = [n for n in graph.node if n.op_type == "DequantizeLinear" and n.input[0] in quantized]
    if not quants or sum(i in quantized for n in graph.node for i in n.input) != len(dequants):
        return  # the int8 tensor feeds something other than a DequantizeLinear: leave it
    outputs = {o.name for o in graph.output}  # a graph output keeps its name
    kept = next((d.output[0] for d in dequants if d.output[0] in outputs), node.output[0])
    rename = {d.output[0]: kept for d in dequants} | {node.output[0]: kept}
    node.output[0] = kept
    remaining = [n for n in graph.node if n not in quants and n not in dequants]
    for n in remaining:
        n.input[:] = [rename.get(i, i) for i in n.input]
    del graph.node[:]
    graph.node.extend(remaining)
    Graph(model).drop_unread_initializers()


def shared_grid_overrides(model: onnx.ModelProto, reduce_range: bool = False) -> dict[str, list[dict]]:
    """onnxruntime TensorQuantOverrides for weights whose values already lie on one int8 grid.

    The cluster pass leaves each layer's shared values on multiples of max|w| / 127 (with `one_grid`, of the
    widest layer's, for every layer). Per-channel scales (max of each channel / 127) would map one shared value
    to a different code in every channel; one range for all channels maps each to a single code, exactly, so
    sharing survives.
    With `reduce_range` that one range spans codes -64..64 (max|w| / 64 a step): each shared value
    still gets a single code, rounded to the coarser grid, and values closer than a step may share one.
    """
    from edgeshrink.passes.int8grid import INT8_LEVELS, common_grid, on_int8_grid, weight_axes

    inits = {init.name: init for init in model.graph.initializer}
    axes = weight_axes(model)
    arrays = {name: numpy_helper.to_array(inits[name]) for name in axes}
    common = common_grid(list(arrays.values()))  # cluster's one_grid
    found = {}
    for name, axis in axes.items():
        w = arrays[name]
        if common is not None or on_int8_grid(w):
            top = np.float32(np.abs(w).max()) if common is None else np.float32(common * INT8_LEVELS)
            found[name] = [{"axis": axis, "rmin": -top, "rmax": top, "reduce_range": reduce_range}
                           for _ in range(w.shape[axis])]
    return found


# The weight input of each int8 GEMM or convolution form the quantizer writes.
_WEIGHT_INPUT = {"Conv": 1, "MatMul": 1, "Gemm": 1, "ConvInteger": 1, "MatMulInteger": 1,
                 "QLinearConv": 3, "QLinearMatMul": 3}


def int8_weights(model: onnx.ModelProto) -> dict[str, np.ndarray]:
    """The int8 initializers feeding a layer's weight input, directly or through a DequantizeLinear."""
    g = Graph(model)
    return {name: numpy_helper.to_array(g.inits[name]) for name in g.weight_initializers(_WEIGHT_INPUT)
            if g.inits[name].data_type == onnx.TensorProto.INT8}
