"""Assemble the C translation unit: the runtime header, weights as one aligned blob, activation buffers,
one function per node, and the three exports the loader calls (input, output, run)."""

from __future__ import annotations

from importlib import resources

import numpy as np

from edgeshrink.runtime.program import Program, Tensor

_PRINTABLE = {c for c in range(0x20, 0x7F)} - {ord("\\"), ord('"'), ord("?")}


def c_source(prog: Program, bodies: list[tuple[str, str]], input_name: str, output_name: str) -> str:
    """The whole program; `bodies` is (node label, C statements) in execution order."""
    header = resources.files("edgeshrink.runtime").joinpath("c/runtime.h").read_text()
    code = "\n".join(body for _, body in bodies) + prog.ptr(input_name) + prog.ptr(output_name)
    # only the constants some kernel reads (a transposed copy replaces its original)
    consts = [t for t in prog.tensors.values() if t.const is not None and t.size and t.sym in code]
    parts = [header, _blob(consts)]
    parts += [f"static {t.ctype} {t.sym}[{max(t.size, 1)}] __attribute__((aligned(16)));" for t in prog.buffers()]
    calls = []
    for i, (label, body) in enumerate(bodies):
        if body:
            parts.append(f"/* {label} */\nstatic void k{i}(void) {{ {body} }}")
            calls.append(f"k{i}();")
    parts.append(f'__attribute__((export_name("input"))) void *rt_input(void) {{ return (void *){prog.ptr(input_name)}; }}')
    parts.append(f'__attribute__((export_name("output"))) void *rt_output(void) {{ return (void *){prog.ptr(output_name)}; }}')
    parts.append(f'__attribute__((export_name("run"))) void rt_run(void) {{ {" ".join(calls)} }}')
    return "\n".join(parts) + "\n"


def _blob(consts: list[Tensor]) -> str:
    """Every constant in one byte string (fast to compile, exact), each a macro casting its offset."""
    chunks, macros, offset = [], [], 0
    for t in consts:
        raw = np.ascontiguousarray(t.const).astype(t.dtype, copy=False).tobytes()
        macros.append(f"#define {t.sym} ((const {t.ctype} *)(rt_blob + {offset}))")
        pad = (-len(raw)) % 16
        chunks.append(raw + b"\0" * pad)
        offset += len(raw) + pad
    data = b"".join(chunks) or b"\0"
    return (f"static const unsigned char rt_blob[{len(data) + 1}] __attribute__((aligned(16))) = \"{_escape(data)}\";\n"
            + "\n".join(macros))


def _escape(data: bytes) -> str:
    return "".join(chr(b) if b in _PRINTABLE else f"\\{b:03o}" for b in data)
