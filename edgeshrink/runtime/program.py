"""The compiler's view of a prepared graph: every tensor's static shape, dtype, C symbol and constant value."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import numpy_helper

from edgeshrink.core.graph import constant_value
from edgeshrink.errors import UnsupportedModel

_INT8_OPS = {"QuantizeLinear", "QLinearConv", "QLinearMatMul", "QGemm", "DynamicQuantizeLinear",
             "DynamicQuantizeMatMul", "ConvInteger", "MatMulInteger", "MatMulIntegerToFloat"}
C_TYPES = {
    np.dtype("float32"): "float", np.dtype("float64"): "double", np.dtype("uint8"): "uint8_t",
    np.dtype("int8"): "int8_t", np.dtype("int32"): "int32_t", np.dtype("int64"): "int64_t",
    np.dtype("bool"): "uint8_t", np.dtype("uint16"): "uint16_t", np.dtype("int16"): "int16_t",
}


@dataclass
class Tensor:
    """One value of the graph. `const` holds initializers and folded constants; `sym` is its C array."""

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    sym: str
    const: np.ndarray | None = None

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def ctype(self) -> str:
        return C_TYPES[self.dtype]


class Program:
    """Tensors by name; kernels ask it for shapes, constants and C symbols, and may alias outputs."""

    def __init__(self, model: onnx.ModelProto):
        self.model = model
        self.tensors: dict[str, Tensor] = {}
        self.aliases: dict[str, str] = {}  # output name -> the tensor whose memory it shares
        for init in model.graph.initializer:
            self._add_const(init.name, numpy_helper.to_array(init))
        for node in model.graph.node:
            if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
                value = constant_value(node)
                if value is None:
                    raise UnsupportedModel(f"Constant {node.output[0]} holds a kind of value the runtime lacks")
                self._add_const(node.output[0], value)
        for value in [*model.graph.input, *model.graph.value_info, *model.graph.output]:
            if value.name not in self.tensors:
                self._add_value(value)
        # float kernels in an int8 graph follow onnxruntime's summation order and fused multiply-adds,
        # so the scores stay bit-identical; a float model only needs the same classes and runs faster
        self.exact_float = any(n.op_type in _INT8_OPS for n in model.graph.node)

    def _sym(self, name: str, prefix: str) -> str:
        return f"{prefix}{len(self.tensors)}_{re.sub(r'[^A-Za-z0-9_]', '_', name)[:40]}"

    def _add_const(self, name: str, array: np.ndarray) -> None:
        array = np.ascontiguousarray(array)
        if array.dtype not in C_TYPES:
            raise UnsupportedModel(f"constant {name} has dtype {array.dtype}, which the compiled runtime lacks")
        self.tensors[name] = Tensor(name, tuple(array.shape), array.dtype, self._sym(name, "W"), array)

    def _add_value(self, value: onnx.ValueInfoProto) -> None:
        ttype = value.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else -1 for d in ttype.shape.dim]
        if not ttype.HasField("shape") or any(d < 0 for d in dims):
            return  # left to the kernel that produces it, which knows its shape (see `define`)
        dtype = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(ttype.elem_type))
        if dtype not in C_TYPES:
            raise UnsupportedModel(f"tensor {value.name} has dtype {dtype}, which the compiled runtime lacks")
        self.tensors[value.name] = Tensor(value.name, tuple(dims), dtype, self._sym(value.name, "T"))

    def constant(self, name: str, array: np.ndarray) -> Tensor:
        """A constant the compiler derives from the model's (weights laid out for a kernel)."""
        if name not in self.tensors:
            self._add_const(name, array)
        return self.tensors[name]

    def transposed(self, name: str) -> Tensor:
        """A constant 2-D matrix laid out transposed (once per tensor), for kernels that read it row-wise."""
        key = f"{name}__T"
        if key not in self.tensors:
            self._add_const(key, np.ascontiguousarray(self.tensors[name].const.T))
        return self.tensors[key]

    def define(self, name: str, shape: tuple[int, ...], dtype) -> Tensor:
        """Declare (or check) a kernel output whose shape onnxruntime did not record."""
        if name not in self.tensors:
            self.tensors[name] = Tensor(name, tuple(int(d) for d in shape), np.dtype(dtype), self._sym(name, "T"))
        return self.tensors[name]

    def __getitem__(self, name: str) -> Tensor:
        if name not in self.tensors:
            raise UnsupportedModel(f"tensor {name} has no static shape after shape inference")
        return self.tensors[name]

    def has(self, name: str) -> bool:
        return bool(name) and name in self.tensors

    def const(self, name: str) -> np.ndarray | None:
        """The value of a constant input, or None for a computed (or absent) one."""
        return self.tensors[name].const if self.has(name) else None

    def ptr(self, name: str) -> str:
        """The C expression of the tensor's first element (aliases resolved)."""
        while name in self.aliases:
            name = self.aliases[name]
        return self[name].sym

    def alias(self, out: str, source: str) -> None:
        """`out` is `source` viewed with another shape (Reshape, Flatten, Squeeze...): no copy."""
        self.aliases[out] = source

    def buffers(self) -> list[Tensor]:
        """Tensors that need memory of their own: not constants, not aliases."""
        return [t for t in self.tensors.values() if t.const is None and t.name not in self.aliases]
