"""An index over an ONNX graph, shared by every pass and by detect.

Who makes and who reads each tensor, initializers by name, the value of a tensor computed from
constants only, the weight layers, the layers and operators that produce the class scores, and the
cleanup of initializers that old exporters also list as graph inputs. Lookups written again inside
each pass drift apart; this is the one place they live.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import onnx
from onnx import numpy_helper

from edgeshrink.core.model import clone, graph_inputs

WEIGHT_OPS = ("Conv", "Gemm", "MatMul")  # their input 1 holds the weight
# Operators that keep a tensor's values and only change its shape or type.
PASS_THROUGH = {"Identity", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Cast"}
# A final operator turning class scores into something else, and what the model then outputs.
FINAL_OPS = {"Softmax": "probabilities", "Sigmoid": "probabilities",
             "LogSoftmax": "log_probabilities", "ArgMax": "class_index"}
# Operators that only rearrange a constant: a weight stored transposed or reshaped is still a weight.
_CONSTANT_VIEWS = {"Identity", "Transpose", "Reshape", "Squeeze", "Unsqueeze", "Cast"}


def attributes(node: onnx.NodeProto) -> dict:
    """A node's attributes as Python values (strings decoded)."""
    found = {}
    for attr in node.attribute:
        value = onnx.helper.get_attribute_value(attr)
        found[attr.name] = value.decode() if isinstance(value, bytes) else value
    return found


def constant_value(node: onnx.NodeProto) -> np.ndarray | None:
    """The value of a Constant node, or None for the kinds no MNIST model uses (sparse, strings)."""
    attrs = attributes(node)
    if "value" in attrs:
        return numpy_helper.to_array(attrs["value"])
    for key, dtype in (("value_float", np.float32), ("value_floats", np.float32),
                       ("value_int", np.int64), ("value_ints", np.int64)):
        if key in attrs:
            return np.array(attrs[key], dtype=dtype)
    return None


def _view(node: onnx.NodeProto, args: list[np.ndarray | None]) -> np.ndarray:
    """Evaluate a _CONSTANT_VIEWS node on constant arrays."""
    x = args[0]
    attrs = attributes(node)
    if node.op_type == "Transpose":
        return np.transpose(x, attrs.get("perm"))
    if node.op_type == "Reshape":
        shape = [x.shape[i] if v == 0 else int(v) for i, v in enumerate(args[1])]
        return x.reshape(shape)
    if node.op_type in ("Squeeze", "Unsqueeze"):
        axes = [int(v) for v in (args[1] if len(args) > 1 and args[1] is not None else attrs["axes"])]
        if node.op_type == "Squeeze":
            return np.squeeze(x, axis=tuple(axes))
        return np.expand_dims(x, axis=tuple(a % (x.ndim + len(axes)) for a in axes))
    if node.op_type == "Cast":
        return x.astype(onnx.helper.tensor_dtype_to_np_dtype(attrs["to"]))
    return x


class Graph:
    """Index over `model`'s main graph. A caller that edits the graph calls `refresh()` afterwards."""

    def __init__(self, model: onnx.ModelProto):
        self.model = model
        self.graph = model.graph
        self.refresh()

    def refresh(self) -> None:
        self.outputs = {o.name for o in self.graph.output}
        self.inits = {init.name: init for init in self.graph.initializer}
        self.producer = {out: node for node in self.graph.node for out in node.output}
        self.consumers: dict[str, list[tuple[onnx.NodeProto, int]]] = defaultdict(list)
        for node in self.graph.node:
            for index, name in enumerate(node.input):
                self.consumers[name].append((node, index))

    def sole_reader(self, name: str) -> onnx.NodeProto | None:
        """The one node reading `name` once, if nothing else (another node, a graph output) reads it."""
        readers = self.consumers.get(name, [])
        return readers[0][0] if len(readers) == 1 and name not in self.outputs else None

    def node(self, name: str) -> onnx.NodeProto | None:
        """The node called `name`."""
        return next((node for node in self.graph.node if node.name == name), None)

    def value(self, name: str) -> np.ndarray | None:
        """The value of a tensor computed from constants only (through _CONSTANT_VIEWS), else None."""
        if not name:
            return None
        if name in self.inits:
            return numpy_helper.to_array(self.inits[name])
        node = self.producer.get(name)
        if node is None:
            return None
        if node.op_type == "Constant":
            return constant_value(node)
        if node.op_type not in _CONSTANT_VIEWS:
            return None
        args = [self.value(n) for n in node.input]
        return None if args[0] is None else _view(node, args)

    def root(self, name: str) -> str | None:
        """The initializer a constant tensor is a view of (transpose, reshape ...), if any."""
        while name not in self.inits:
            node = self.producer.get(name)
            if node is None or node.op_type not in _CONSTANT_VIEWS:
                return None
            name = node.input[0]
        return name

    def weight_initializers(self, weight_input: dict[str, int]) -> list[str]:
        """The initializers read at each listed operator's weight input (op type -> input index), directly or
        through a DequantizeLinear, in node order, each once."""
        found = []
        for node in self.graph.node:
            index = weight_input.get(node.op_type)
            if index is None or len(node.input) <= index:
                continue
            name = node.input[index]
            producer = self.producer.get(name)
            if producer is not None and producer.op_type == "DequantizeLinear":
                name = producer.input[0]
            if name in self.inits and name not in found:
                found.append(name)
        return found

    def _is_layer(self, node: onnx.NodeProto) -> bool:
        """A Conv, Gemm or MatMul reading data (not constants) at input 0."""
        return node.op_type in WEIGHT_OPS and len(node.input) > 1 and self.value(node.input[0]) is None

    def weight_layers(self) -> list[onnx.NodeProto]:
        """Conv, Gemm and MatMul nodes whose weight is an initializer (or a view of one) and whose other
        input is data."""
        return [node for node in self.graph.node if self._is_layer(node) and self.root(node.input[1]) is not None]

    def score_layers(self, class_output: str) -> list[onnx.NodeProto]:
        """The Conv/Gemm/MatMul layers that compute the class scores with no such layer after them."""
        found, todo, seen = [], [class_output], set()
        while todo:
            name = todo.pop()
            node = self.producer.get(name)
            if name in seen or node is None:
                continue
            seen.add(name)
            if self._is_layer(node):
                found.append(node)
                continue
            todo += [n for n in node.input if n and self.value(n) is None]
        return found

    def final_node(self, name: str) -> onnx.NodeProto | None:
        """The node that last changes the values of `name` (skipping PASS_THROUGH operators)."""
        node = self.producer.get(name)
        while node is not None and node.op_type in PASS_THROUGH:
            node = self.producer.get(node.input[0])
        return node

    def output_kind(self, name: str) -> str:
        """What an output holds: 'logits', 'probabilities', 'log_probabilities' or 'class_index'."""
        node = self.final_node(name)
        return FINAL_OPS.get(node.op_type, "logits") if node is not None else "logits"

    def drop_unread_initializers(self) -> None:
        """Remove initializers that no node or graph output reads (and their graph-input entries).

        Left alone when the graph has subgraphs (If, Loop), which may read them from inside.
        """
        if any(attr.g.node or attr.graphs for node in self.graph.node for attr in node.attribute):
            return
        unread = [i for i in self.graph.initializer if not self.consumers.get(i.name) and i.name not in self.outputs]
        for init in unread:
            self.graph.initializer.remove(init)
        names = {i.name for i in unread}
        kept = [i for i in self.graph.input if i.name not in names]
        del self.graph.input[:]
        self.graph.input.extend(kept)
        self.refresh()


def without_initializer_inputs(model: onnx.ModelProto, ir_version: int = 4) -> onnx.ModelProto:
    """A copy whose initializers are not also listed as graph inputs.

    IR < 4 exports (CNTK, opset < 9) list every weight as an overridable input, which stops
    onnxruntime from folding anything computed from them and its quantizer from quantizing them.
    The copy declares at least `ir_version` when it drops any, as IR < 4 requires those entries.
    """
    out = clone(model)
    real_inputs = graph_inputs(out)
    if len(real_inputs) < len(out.graph.input):
        del out.graph.input[:]
        out.graph.input.extend(real_inputs)
        out.ir_version = max(out.ir_version, ir_version)
    return out
