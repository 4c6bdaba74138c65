"""Assemble the C translation unit: the runtime header, weights as one aligned blob (sparse byte weights as
codes, sparse.py), activation buffers, one function per node, and the four exports the loader calls
(init once: decoding and the nodes on constants; then input, output, run per digit)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np

from edgeshrink.runtime import sparse
from edgeshrink.runtime.program import Program, Tensor

_PRINTABLE = {c for c in range(0x20, 0x7F)} - {ord("\\"), ord('"'), ord("?")}


@dataclass(frozen=True)
class Body:
    """One node's C statements; `once` when its inputs are all constants, so `init` runs it, not `run`."""

    label: str
    code: str
    once: bool = False


def c_source(prog: Program, bodies: list[Body], input_name: str, output_name: str) -> str:
    """The whole program; `bodies` in execution order."""
    header = resources.files("edgeshrink.runtime").joinpath("c/runtime.h").read_text()
    code = "\n".join(b.code for b in bodies) + prog.ptr(input_name) + prog.ptr(output_name)
    # only the constants some kernel reads (a transposed copy replaces its original)
    consts = [t for t in prog.tensors.values() if t.const is not None and t.size and t.sym in code]
    coded = sparse.choose(consts)
    blob, decoding = _blob([t for t in consts if t.sym not in coded], list(coded.values()))
    parts = [header, blob, *(sparse.declare(s) for s in coded.values())]
    parts += [f"static {t.ctype} {t.sym}[{max(t.size, 1)}] __attribute__((aligned(16)));" for t in prog.buffers()]
    calls, once = [], []
    for i, body in enumerate(bodies):
        if body.code:
            parts.append(f"/* {body.label} */\nstatic void k{i}(void) {{ {body.code} }}")
            (once if body.once else calls).append(f"k{i}();")
    parts.append(f'__attribute__((export_name("input"))) void *rt_input(void) {{ return (void *){prog.ptr(input_name)}; }}')
    parts.append(f'__attribute__((export_name("output"))) void *rt_output(void) {{ return (void *){prog.ptr(output_name)}; }}')
    parts.append(f'__attribute__((export_name("run"))) void rt_run(void) {{ {" ".join(calls)} }}')
    parts.append(f'__attribute__((export_name("init"))) void rt_init(void) {{ {" ".join(decoding + once)} }}')
    return "\n".join(parts) + "\n"


def _blob(consts: list[Tensor], coded: list[sparse.Sparse]) -> tuple[str, list[str]]:
    """Every constant in one byte string (fast to compile, exact), each a macro casting its offset; then the
    steps, codes and books of the `coded` constants, each kind together, and the calls that decode them."""
    chunks, macros, offset = [], [], 0

    def add(raw: bytes, align: int = 16) -> int:
        nonlocal offset
        start = offset
        pad = (-len(raw)) % align
        chunks.append(raw + b"\0" * pad)
        offset += len(raw) + pad
        return start

    for t in consts:
        start = add(np.ascontiguousarray(t.const).astype(t.dtype, copy=False).tobytes())
        macros.append(f"#define {t.sym} ((const {t.ctype} *)(rt_blob + {start}))")
    steps = [add(s.codes.steps.tobytes(), 1) for s in coded]
    codes = [add(s.codes.codes.tobytes(), 1) for s in coded]
    books = [add(s.codes.book.tobytes(), 1) for s in coded]
    decoding = [sparse.decode_call(s, *at) for s, *at in zip(coded, steps, codes, books)]
    data = b"".join(chunks) or b"\0"
    return (f"static const unsigned char rt_blob[{len(data) + 1}] __attribute__((aligned(16))) = \"{_escape(data)}\";\n"
            + "\n".join(macros)), decoding


def _escape(data: bytes) -> str:
    return "".join(chr(b) if b in _PRINTABLE else f"\\{b:03o}" for b in data)
