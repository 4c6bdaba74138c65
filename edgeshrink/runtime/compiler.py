"""ONNX model -> C -> wasm32 + an ES module loader: the compiled runtime for one model."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources

import onnx

from edgeshrink.core.signature import Signature
from edgeshrink.errors import UnsupportedModel
from edgeshrink.runtime import emit, kernels, toolchain
from edgeshrink.runtime.prepare import Prepared, optimize, prepare
from edgeshrink.runtime.program import Program

WASM_FILE = "model.wasm"
ENTRY_FILE = "model.mjs"


@dataclass(frozen=True)
class Compiled:
    """The files of a compiled model; `entry` is the ES module exporting `load(wasmUrlOrBytes)`."""

    files: dict[str, bytes]
    entry: str
    batch: int = 1  # images per run of the compiled graph (the image goes in slot 0)
    operators: list[str] = field(default_factory=list)  # of the optimized graph that was compiled
    notes: list[str] = field(default_factory=list)
    source: str = ""  # the generated C, for reading and debugging
    # int8 arithmetic where the model runs: its scores are onnxruntime's bit for bit (a model whose int8
    # weights onnxruntime folds back to float runs float kernels, and only its classes must agree)
    exact: bool = False
    # {"batch", "input": {"type", "length"}, "output": {...}}: one image's values and its scores, as the loader runs it
    shape: dict = field(default_factory=dict)


def compile_model(proto: onnx.ModelProto, signature: Signature, simd: bool = True) -> Compiled:
    """Compile `proto` fed as `signature` says; UnsupportedModel names why it cannot be."""
    toolchain.tools()  # fail fast, before the optimizer runs
    return build(prepare(proto, signature), simd)


def compile_graph(model: onnx.ModelProto, simd: bool = True) -> Compiled:
    """Compile any graph with fixed input shapes (one input, first output): the kernel tests' entry."""
    toolchain.tools()
    return build(Prepared(optimize(model), 1), simd)


def build(prepared: Prepared, simd: bool = True) -> Compiled:
    """C for every node of the optimized graph, compiled to wasm, with its loader."""
    model = prepared.model
    nodes = _ordered(model.graph)
    missing = sorted({f"{n.domain + '.' if n.domain not in ('', 'ai.onnx') else ''}{n.op_type}"
                      for n in nodes if n.op_type != "Constant" and not kernels.lookup(n.domain, n.op_type)})
    if missing:
        raise UnsupportedModel(f"operator{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                               f"{'are' if len(missing) > 1 else 'is'} not supported")
    prog = Program(model)
    bodies = [(f"{n.op_type} {n.name}", kernels.lookup(n.domain, n.op_type)(n, prog))
              for n in nodes if n.op_type != "Constant"]
    x, y = model.graph.input[0].name, model.graph.output[0].name
    source = emit.c_source(prog, bodies, x, y)
    wasm = toolchain.build(source, simd)
    shape = _shape(prog[x], prog[y], prepared.batch)
    text = resources.files("edgeshrink.runtime").joinpath("js/loader.mjs").read_text()
    loader = text.replace("__SHAPE__", json.dumps(shape)).replace("__WASM__", WASM_FILE)
    return Compiled({WASM_FILE: wasm, ENTRY_FILE: loader.encode()}, ENTRY_FILE, prepared.batch,
                    [n.op_type for n in nodes], [prepared.note] if prepared.note else [], source,
                    prog.exact_float, shape)


def _ordered(graph: onnx.GraphProto) -> list[onnx.NodeProto]:
    """The nodes in an order where every input is computed before it is read."""
    ready = {i.name for i in graph.input} | {i.name for i in graph.initializer} | {""}
    pending, order = list(graph.node), []
    while pending:
        progress = [n for n in pending if all(i in ready for i in n.input)]
        if not progress:
            raise UnsupportedModel("the graph has a cycle or an input no node computes")
        for n in progress:
            order.append(n)
            ready.update(n.output)
        pending = [n for n in pending if n not in progress]
    return order


def _shape(x, y, batch: int) -> dict:
    if x.dtype.name not in ("float32", "float64", "uint8", "int8", "int32"):
        raise UnsupportedModel(f"{x.dtype} inputs are not supported by the compiled runtime")
    return {"batch": batch, "input": {"type": x.dtype.name, "length": x.size // batch},
            "output": {"type": y.dtype.name, "length": y.size // batch}}
