"""A model under surgery: the shared graph index, plus shapes and the edits structured pruning makes."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import numpy_helper

from edgeshrink.core.graph import Graph


class EditableGraph(Graph):
    """Index over a model the caller owns and mutates (always a copy of the pass's input), with the
    shapes of its tensors as inferred before any edit."""

    def __init__(self, model: onnx.ModelProto):
        super().__init__(model)
        inferred = onnx.shape_inference.infer_shapes(model)
        self._shapes = {}
        for value in [*inferred.graph.input, *inferred.graph.value_info, *inferred.graph.output]:
            dims = value.type.tensor_type.shape.dim
            self._shapes[value.name] = [d.dim_value if d.HasField("dim_value") else None for d in dims]

    def shape(self, name: str) -> list[int | None] | None:
        if name in self.inits:
            return list(self.inits[name].dims)
        return self._shapes.get(name)

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
            if self.sole_reader(name) is None:
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
        self.drop_unread_initializers()
