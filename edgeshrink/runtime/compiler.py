"""ONNX model -> C -> wasm32 + an ES module loader: the compiled runtime for one model."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources

import onnx

from edgeshrink.core.signature import Signature
from edgeshrink.errors import UnsupportedModel
from edgeshrink.runtime import emit, kernels, sparse, toolchain
from edgeshrink.runtime.prepare import Prepared, optimize, prepare
from edgeshrink.runtime.program import Program
from edgeshrink.size import measure

WASM_FILE = "model.wasm"
ENTRY_FILE = "model.mjs"
BUILDS = ("fast", "small", "page")
# A page takes the small build when it saves at least this share of the module's bytes (brotli): on a model of a
# few thousand weights the code is most of the module and -Os takes a quarter to a third off, at 1.7 to 2.5 times
# the time per digit (0.06 to 0.3 ms in Node: bench/builds.md); the first answer neither gains nor loses within
# noise (bench/page_ab.md). Where the weights are the bulk, the code it saves is noise and the fast build stays.
PAGE_SHARE = 0.05


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
    build: str = "fast"  # toolchain.LEVELS: the optimization the module was compiled with


def compile_model(proto: onnx.ModelProto, signature: Signature, simd: bool = True, build: str = "fast") -> Compiled:
    """Compile `proto` fed as `signature` says; UnsupportedModel names why it cannot be. `build` is "fast",
    "small", or "page": the module a page should carry (the small build when it saves PAGE_SHARE)."""
    if build not in BUILDS:
        raise ValueError(f"unknown build {build!r}; choose one of {', '.join(BUILDS)}")
    toolchain.tools()  # fail fast, before the optimizer runs
    return from_prepared(prepare(proto, signature), simd, build)


def compile_graph(model: onnx.ModelProto, simd: bool = True) -> Compiled:
    """Compile any graph with fixed input shapes (one input, first output): the kernel tests' entry."""
    toolchain.tools()
    return from_prepared(Prepared(optimize(model), 1), simd)


def from_prepared(prepared: Prepared, simd: bool = True, level: str = "fast", hoist: bool = True,
                  forms: tuple[str, ...] = sparse.FORMS) -> Compiled:
    """C for every node of the optimized graph, compiled to wasm (`level` as in compile_model), with its loader.
    `hoist` runs the nodes on constants once, in init; `forms` are the dense forms of byte constants to try
    (bench/codes.py turns both off to measure the module without them)."""
    model = prepared.model
    nodes = _ordered(model.graph)
    missing = sorted({f"{n.domain + '.' if n.domain not in ('', 'ai.onnx') else ''}{n.op_type}"
                      for n in nodes if n.op_type != "Constant" and not kernels.lookup(n.domain, n.op_type)})
    if missing:
        raise UnsupportedModel(f"operator{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                               f"{'are' if len(missing) > 1 else 'is'} not supported")
    prog = Program(model)
    once = _constant(nodes, model.graph) if hoist else set()
    bodies = [emit.Body(f"{n.op_type} {n.name}", kernels.lookup(n.domain, n.op_type)(n, prog), id(n) in once)
              for n in nodes if n.op_type != "Constant"]
    x, y = model.graph.input[0].name, model.graph.output[0].name
    tried = (None, *forms) if forms and emit.dense_candidates(prog, bodies) else (None,)
    sources = {form: emit.c_source(prog, bodies, x, y, form) for form in tried}
    level, source, wasm, note = _wasm(sources, simd, level)
    shape = _shape(prog[x], prog[y], prepared.batch)
    text = resources.files("edgeshrink.runtime").joinpath("js/loader.mjs").read_text()
    loader = text.replace("__SHAPE__", json.dumps(shape)).replace("__WASM__", WASM_FILE)
    notes = [n for n in (prepared.note, note) if n]
    return Compiled({WASM_FILE: wasm, ENTRY_FILE: loader.encode()}, ENTRY_FILE, prepared.batch,
                    [n.op_type for n in nodes], notes, source, prog.exact_float, shape, level)


def _wasm(sources: dict[str | None, str], simd: bool, build: str) -> tuple[str, str, bytes, str]:
    """(the level compiled, its source, the module, a note saying why) for `build`, from the source of each form
    of the dense constants (sparse.FORMS, None for none)."""
    if build != "page":
        return (build, *_smallest(sources, simd, build))
    (fast_c, fast, fast_n), (small_c, small, small_n) = (_smallest(sources, simd, level) for level in ("fast", "small"))
    fast_b, small_b = measure(fast).brotli, measure(small).brotli
    if fast_b - small_b >= PAGE_SHARE * fast_b:
        note = f"built for size: {small_b:,} B brotli instead of {fast_b:,} B"
        return "small", small_c, small, "; ".join(n for n in (note, small_n) if n)
    return "fast", fast_c, fast, fast_n


def _smallest(sources: dict[str | None, str], simd: bool, level: str) -> tuple[str, bytes, str]:
    """(source, module, note) of the form whose whole module, decoding included, is smallest after brotli among
    those smaller than the plain one (None) after brotli and after gzip."""
    built = {form: toolchain.build(source, simd, level) for form, source in sources.items()}
    sizes = {form: measure(module) for form, module in built.items()}
    plain = sizes[None]
    smaller = [f for f in sources if f is not None and sizes[f].brotli < plain.brotli and sizes[f].gzip < plain.gzip]
    best = min(smaller, key=lambda f: (sizes[f].brotli, sizes[f].gzip), default=None)
    note = "" if best is None else (f"dense byte weights as codes ({best}): {sizes[best].brotli:,} B brotli "
                                    f"instead of {plain.brotli:,} B")
    return sources[best], built[best], note


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


def _constant(nodes: list[onnx.NodeProto], graph: onnx.GraphProto) -> set[int]:
    """The ids of the nodes (in `nodes`' order) whose inputs are all constants or outputs of such nodes: they
    compute the same values for every digit, so the module computes them once, in its exported `init`, with the
    same C code (bit-identical results; int8 weights dequantized to float cost no bytes of the module this way)."""
    known = ({i.name for i in graph.initializer} - {i.name for i in graph.input}) | {""}
    once = set()
    for n in nodes:
        if all(i in known for i in n.input):
            known.update(n.output)
            if n.op_type != "Constant":
                once.add(id(n))
    return once


def _shape(x, y, batch: int) -> dict:
    if x.dtype.name not in ("float32", "float64", "uint8", "int8", "int32"):
        raise UnsupportedModel(f"{x.dtype} inputs are not supported by the compiled runtime")
    return {"batch": batch, "input": {"type": x.dtype.name, "length": x.size // batch},
            "output": {"type": y.dtype.name, "length": y.size // batch}}
