"""A model under surgery: who makes and reads each tensor, constant values, shapes, weight layers."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import onnx
from onnx import numpy_helper

# Operators that only rearrange a constant: a weight stored transposed or reshaped is still a weight.
_CONSTANT_VIEWS = {"Identity", "Transpose", "Reshape", "Squeeze", "Unsqueeze", "Cast"}
WEIGHT_OPS = {"Conv", "Gemm", "MatMul"}  # their input 1 holds the weight


def attributes(node: onnx.NodeProto) -> dict:
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


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


def _constant(node: onnx.NodeProto) -> np.ndarray | None:
    attr = node.attribute[0]
    value = onnx.helper.get_attribute_value(attr)
    if attr.name == "value":
        return numpy_helper.to_array(value)
    if attr.name in ("value_float", "value_floats"):
        return np.array(value, dtype=np.float32)
    if attr.name in ("value_int", "value_ints"):
        return np.array(value, dtype=np.int64)
    return None


class Graph:
    """Index over a model the caller owns and mutates (always a copy of the pass's input)."""

    def __init__(self, model: onnx.ModelProto):
        self.graph = model.graph
        self.outputs = {o.name for o in model.graph.output}
        self.refresh()
        inferred = onnx.shape_inference.infer_shapes(model)
        self._shapes = {}
        for value in [*inferred.graph.input, *inferred.graph.value_info, *inferred.graph.output]:
            dims = value.type.tensor_type.shape.dim
            self._shapes[value.name] = [d.dim_value if d.HasField("dim_value") else None for d in dims]

    def refresh(self) -> None:
        self.inits = {init.name: init for init in self.graph.initializer}
        self.producer = {out: node for node in self.graph.node for out in node.output}
        self.consumers: dict[str, list[tuple[onnx.NodeProto, int]]] = defaultdict(list)
        for node in self.graph.node:
            for index, name in enumerate(node.input):
                self.consumers[name].append((node, index))

    def shape(self, name: str) -> list[int | None] | None:
        if name in self.inits:
            return list(self.inits[name].dims)
        return self._shapes.get(name)

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
            return _constant(node)
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

    def weight_layers(self) -> list[onnx.NodeProto]:
        """Conv, Gemm and MatMul nodes whose weight is a constant and whose other input is data."""
        layers = []
        for node in self.graph.node:
            if node.op_type in WEIGHT_OPS and len(node.input) > 1:
                if self.value(node.input[0]) is None and self.root(node.input[1]) is not None:
                    layers.append(node)
        return layers

    def output_layers(self, class_output: str) -> set[str]:
        """Output names of the weight layers that compute the class scores with no weight layer after."""
        layers = {node.output[0] for node in self.weight_layers()}
        found, todo, seen = set(), [class_output], set()
        while todo:
            name = todo.pop()
            node = self.producer.get(name)
            if name in seen or node is None:
                continue
            seen.add(name)
            if node.output[0] in layers:
                found.add(node.output[0])
                continue
            todo += [n for n in node.input if n and self.value(n) is None]
        return found

    def dedicated(self, node: onnx.NodeProto, index: int) -> str:
        """An initializer only `node` reads at `index`, holding that input's value.

        A weight stored as a view (say Transpose of an initializer) read by nothing else becomes an
        initializer of the same name holding the view itself; a shared constant is copied.
        """
        name = node.input[index]
        array = self.value(name)
        maker = self.producer.get(name)
        if maker is not None and maker.op_type == "Constant" and self._exclusive(name, name):
            return name
        base = self.root(name) or name
        if base in self.inits and self._exclusive(name, base):
            if name != base:
                self.store(base, array)
                node.input[index] = base
                self.refresh()
            return base
        fresh, k = f"{base}_pruned", 1
        while fresh in self.inits or fresh in self.producer or fresh in self.consumers:
            k += 1
            fresh = f"{base}_pruned{k}"
        self.graph.initializer.append(numpy_helper.from_array(array, fresh))
        node.input[index] = fresh
        self.refresh()
        return fresh

    def _exclusive(self, name: str, root: str) -> bool:
        """True if one node reads `name` and each tensor between `root` and it feeds only the next."""
        while True:
            if len(self.consumers.get(name, [])) != 1 or name in self.outputs:
                return False
            if name == root:
                return True
            name = self.producer[name].input[0]

    def store(self, name: str, array: np.ndarray) -> None:
        """Replace a constant's value (its dtype is kept) and its graph-input entry if it has one."""
        if name not in self.inits:  # the output of a Constant node
            node = self.producer[name]
            tensor = numpy_helper.from_array(array.astype(self.value(name).dtype), name)
            del node.attribute[:]
            node.attribute.append(onnx.helper.make_attribute("value", tensor))
            return
        init = self.inits[name]
        init.CopyFrom(numpy_helper.from_array(array.astype(numpy_helper.to_array(init).dtype), name))
        for inp in self.graph.input:  # IR < 4 lists initializers as inputs too
            if inp.name == name:
                inp.type.tensor_type.shape.Clear()
                for dim in array.shape:
                    inp.type.tensor_type.shape.dim.add().dim_value = dim

    def drop_dead(self) -> None:
        """Remove nodes and initializers nothing reads any more (folded weight views, old constants)."""
        while True:
            self.refresh()
            dead = [n for n in self.graph.node
                    if not any(o in self.outputs or self.consumers.get(o) for o in n.output)]
            if not dead:
                break
            for node in dead:
                self.graph.node.remove(node)
        unused = [i for i in self.graph.initializer if not self.consumers.get(i.name) and i.name not in self.outputs]
        for init in unused:
            self.graph.initializer.remove(init)
        names = {i.name for i in unused}
        kept_inputs = [i for i in self.graph.input if i.name not in names]
        del self.graph.input[:]
        self.graph.input.extend(kept_inputs)
        self.refresh()
