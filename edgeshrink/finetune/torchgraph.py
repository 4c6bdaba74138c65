"""Run an ONNX graph as a torch module, so a pass can fine-tune a model edgeshrink did not make.

`to_torch(model)` turns every float initializer into an `nn.Parameter` (looked up by initializer
name) and evaluates the nodes in topological order with torch operators; `write_back` copies the
trained values into a copy of the model. Only the operators MNIST classifiers use are supported:
`unsupported(model)` names the others before anything runs.
"""

from __future__ import annotations

import onnx
import torch
from onnx import numpy_helper

from edgeshrink.core.graph import attributes, constant_value
from edgeshrink.core.model import clone, opset
from edgeshrink.errors import ModelError
from edgeshrink.finetune.torchgraph_ops import OPS


def unsupported(model: onnx.ModelProto) -> list[str]:
    """Operators of `model` the interpreter cannot run (empty when it runs everything)."""
    used = {name for node in model.graph.node for name in node.input} | {o.name for o in model.graph.output}
    found = set()
    for node in model.graph.node:
        if node.op_type not in {*OPS, "Constant"} or node.domain not in ("", "ai.onnx"):
            found.add(node.op_type)
        elif any(name in used for name in node.output[1:]):  # e.g. MaxPool indices, Dropout mask
            found.add(f"{node.op_type} with {len(node.output)} outputs")
    return sorted(found)


def _constant(node: onnx.NodeProto) -> torch.Tensor:
    value = constant_value(node)
    if value is None:
        raise ModelError(f"Constant node without a supported value ({', '.join(attributes(node))}); re-export the model")
    return torch.from_numpy(value.copy())


def _downstream(model: onnx.ModelProto, start: set[str]) -> set[str]:
    """Every tensor computed from the `start` tensors (the nodes are in topological order)."""
    reached = set(start)
    for node in model.graph.node:
        if any(name in reached for name in node.input):
            reached.update(node.output)
    return reached


class GraphModule(torch.nn.Module):
    """An ONNX graph evaluated with torch; its float initializers are its parameters."""

    def __init__(self, model: onnx.ModelProto, batch: int | None = None):
        super().__init__()
        missing = unsupported(model)
        if missing:
            raise ModelError(f"the ONNX->torch interpreter does not support {', '.join(missing)}")
        self.names: list[str] = []
        self.weights = torch.nn.ParameterList()
        self.constants: dict[str, torch.Tensor] = {}
        for init in model.graph.initializer:
            array = torch.from_numpy(numpy_helper.to_array(init).copy())
            if array.dtype.is_floating_point:
                self.names.append(init.name)
                self.weights.append(torch.nn.Parameter(array))
            else:
                self.constants[init.name] = array
        stored = set(self.names) | set(self.constants)  # old IRs list initializers as inputs too
        self.input_names = [i.name for i in model.graph.input if i.name not in stored]
        self.output_names = [o.name for o in model.graph.output]
        data = _downstream(model, set(self.input_names))
        self.nodes = []
        for node in model.graph.node:
            if node.op_type == "Constant":
                self.constants[node.output[0]] = _constant(node)
                continue
            attrs = {**attributes(node), "_opset": opset(model)}
            if node.op_type == "Reshape" and batch and node.input[0] in data:
                attrs["_batch"] = batch
            self.nodes.append((node.op_type, list(node.input), list(node.output), attrs))

    def param(self, name: str) -> torch.nn.Parameter:
        return self.weights[self.names.index(name)]

    def named_weights(self) -> list[tuple[str, torch.nn.Parameter]]:
        return list(zip(self.names, self.weights))

    def forward(self, *inputs, outputs: list[str] | None = None) -> list:
        """The requested tensors (the graph outputs by default) for inputs in graph-input order."""
        env = {**self.constants, **dict(zip(self.names, self.weights)), **dict(zip(self.input_names, inputs))}
        for op, names_in, names_out, attrs in self.nodes:
            args = [env[name] if name else None for name in names_in]
            result = OPS[op](attrs, *args)
            env[names_out[0]] = result
        return [env[name] for name in (outputs or self.output_names)]


def to_torch(model: onnx.ModelProto, batch: int | None = None) -> GraphModule:
    """A torch module computing `model`; `batch` (a batch fixed at export) lets any batch through Reshape."""
    return GraphModule(model, batch)


def write_back(model: onnx.ModelProto, module: GraphModule) -> onnx.ModelProto:
    """A copy of `model` whose float initializers hold the module's current parameter values."""
    out = clone(model)
    values = dict(module.named_weights())
    for init in out.graph.initializer:
        if init.name not in values:
            continue
        array = values[init.name].detach().cpu().numpy()
        if tuple(array.shape) != tuple(init.dims):
            raise ValueError(f"parameter {init.name} has shape {array.shape}, the model holds {tuple(init.dims)}")
        dtype = onnx.helper.tensor_dtype_to_np_dtype(init.data_type)
        init.CopyFrom(numpy_helper.from_array(array.astype(dtype), init.name))
    return out
