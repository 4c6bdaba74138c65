"""Byte constants stored as codes in the module and decoded once when it is instantiated.

A pruned, shared-value layer's int8 weights (in the layout a kernel reads) are mostly zeros and a few
distinct values. The module then holds what `edgeshrink.packing` puts in the ONNX file: the distinct
values, a uint8 step from each non-zero byte to the next and a uint8 code per non-zero byte; its exported
`init`, which the loader calls once after instantiating, writes the dense array into zeroed memory. Dense,
the zeros between the values cost the data segments' headers (pack.py cuts runs of 12 or more) and
brotli codes the interleaved layout poorly. A constant is stored this way only where its codes measure
smaller than its bytes after gzip and after brotli.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeshrink.packing import Codes, encode
from edgeshrink.runtime.program import Tensor
from edgeshrink.size import measure

_BYTES = (np.dtype("int8"), np.dtype("uint8"))
MIN_BYTES = 256  # smaller constants are not worth a decoding call


@dataclass(frozen=True)
class Sparse:
    """A constant stored as codes: the tensor and its codes."""

    tensor: Tensor
    codes: Codes


def choose(consts: list[Tensor]) -> dict[str, Sparse]:
    """The constants (by C symbol) whose codes are smaller than their bytes after gzip and brotli."""
    found = {}
    for t in consts:
        if t.dtype not in _BYTES or t.size < MIN_BYTES:
            continue
        codes = encode(t.const)
        if codes is None:
            continue
        dense, coded = measure(t.const.tobytes()), measure(streams(codes))
        if coded.gzip < dense.gzip and coded.brotli < dense.brotli:
            found[t.sym] = Sparse(t, codes)
    return found


def streams(codes: Codes) -> bytes:
    return codes.steps.tobytes() + codes.codes.tobytes() + codes.book.tobytes()


def declare(s: Sparse) -> str:
    """The zeroed array `init` decodes into, under the symbol the kernels read."""
    t = s.tensor
    return (f"static {t.ctype} {t.sym}_d[{t.size}] __attribute__((aligned(16)));\n"
            f"#define {t.sym} ((const {t.ctype} *){t.sym}_d)")


def decode_call(s: Sparse, steps: str, codes: str, book: str) -> str:
    """The C statement decoding `s` from the blob offsets of its steps, codes and book."""
    return (f"rt_unpack((uint8_t *){s.tensor.sym}_d, rt_blob + {steps}, rt_blob + {codes}, rt_blob + {book}, "
            f"{len(s.codes.steps)});")
