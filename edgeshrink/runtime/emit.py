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


def c_source(prog: Program, bodies: list[Body], input_name: str, output_name: str, form: str | None = None) -> str:
    """The whole program; `bodies` in execution order. `form` (one of sparse.FORMS) stores the dense byte
    constants of few values as codes; None keeps them as they are."""
    header = resources.files("edgeshrink.runtime").joinpath("c/runtime.h").read_text()
    code = "\n".join(b.code for b in bodies) + prog.ptr(input_name) + prog.ptr(output_name)
    # only the constants some kernel reads (a transposed copy replaces its original)
    consts = [t for t in prog.tensors.values() if t.const is not None and t.size and t.sym in code]
    coded: dict[str, sparse.Coded] = dict(sparse.choose(consts))
    if form is not None:
        coded.update(sparse.dense([t for t in consts if t.sym not in coded], form))
    blob, decoding = _blob([t for t in consts if t.sym not in coded], list(coded.values()))
    parts = [header, blob, *(sparse.declare(s) for s in coded.values())]
    parts += [f"static {t.ctype} {t.sym}[{max(t.size, 1)}] __attribute__((aligned(16)));" for t in prog.buffers()]
    calls, once = [], []
    for i, body in enumerate(bodies):
        if body.code:
            once_attr = "__attribute__((minsize)) " if body.once else ""  # run once: its bytes count, not its speed
            parts.append(f"/* {body.label} */\n{once_attr}static void k{i}(void) {{ {body.code} }}")
            (once if body.once else calls).append(f"k{i}();")
    parts.append(f'__attribute__((export_name("input"))) void *rt_input(void) {{ return (void *){prog.ptr(input_name)}; }}')
    parts.append(f'__attribute__((export_name("output"))) void *rt_output(void) {{ return (void *){prog.ptr(output_name)}; }}')
    parts.append(f'__attribute__((export_name("run"))) void rt_run(void) {{ {" ".join(calls)} }}')
    parts.append(f'__attribute__((export_name("init"), minsize)) void rt_init(void) {{ {" ".join(decoding + once)} }}')
    return "\n".join(parts) + "\n"


def dense_candidates(prog: Program, bodies: list[Body]) -> bool:
    """Whether some constant could take a dense form (else the other forms compile to the same module)."""
    code = "\n".join(b.code for b in bodies)
    consts = [t for t in prog.tensors.values() if t.const is not None and t.size and t.sym in code]
    return bool(sparse.dense([t for t in consts if t.sym not in sparse.choose(consts)], "bytes"))


def _blob(consts: list[Tensor], coded: list[sparse.Coded]) -> tuple[str, list[str]]:
    """Every constant in one byte string (fast to compile, exact), each a macro casting its offset; then the
    streams of the `coded` constants, each kind together (sparse.KINDS), and the calls that decode them."""
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
    streams = [s.streams() for s in coded]
    at: list[dict[str, int]] = [{} for _ in coded]
    for kind in sparse.KINDS:
        for where, found in zip(at, streams):
            if kind in found:
                where[kind] = add(found[kind], 1)
    decoding = [s.decode_call(where) for s, where in zip(coded, at)]
    data = b"".join(chunks) or b"\0"
    return (f"static const unsigned char rt_blob[{len(data) + 1}] __attribute__((aligned(16))) = \"{_escape(data)}\";\n"
            + "\n".join(macros)), decoding


def _escape(data: bytes) -> str:
    return "".join(chr(b) if b in _PRINTABLE else f"\\{b:03o}" for b in data)
