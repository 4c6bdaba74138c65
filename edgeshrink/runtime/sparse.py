"""Byte constants stored as codes in the module and decoded once when it is instantiated.

A pruned, shared-value layer's int8 weights (in the layout a kernel reads) are mostly zeros and a few
distinct values. The module then holds what `edgeshrink.packing` puts in the ONNX file: the distinct
values, a uint8 step from each non-zero byte to the next and a uint8 code per non-zero byte; its exported
`init`, which the loader calls once after instantiating, writes the dense array into zeroed memory. Dense,
the zeros between the values cost the data segments' headers (pack.py cuts runs of 12 or more) and
brotli codes the interleaved layout poorly. A constant is stored this way only where its codes measure
smaller than its bytes after gzip and after brotli.

A dense layer of few shared values (every weight kept, at most 127 values) has no zeros to skip, but its
int8 bytes are each layer's own scattered set of values (negative ones >= 0x80, two bytes in the page's
text form) and brotli's shared tables fit them badly. It is stored as one code per weight, ranked by
frequency (`packing.encode_dense`), in one of FORMS: a byte per code ("bytes", 1 to 127) or the codes
bit-packed to the bits the layer's book needs ("bits"). Which form, if any, the compiler decides by
building the whole module each way (decoder included) and measuring it: `compiler._smallest`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeshrink.packing import Codes, encode, encode_dense
from edgeshrink.runtime.program import Tensor
from edgeshrink.size import measure

_BYTES = (np.dtype("int8"), np.dtype("uint8"))
MIN_BYTES = 256  # smaller constants are not worth a decoding call (sparse codes, chosen stream by stream)
DENSE_MIN = 32  # the dense forms are judged on the whole module, where a decoding call costs what it costs
DENSE_VALUES = 127  # byte codes 1..127 (CODE_BASE): one byte each in the page's text form; at most 7 bits
FORMS = ("bytes", "bits")  # the dense forms, in the order the compiler tries them
# byte codes start at 1: a zero byte is two bytes (U+0100) in the page's text form (web/assemble/inline.py), and
# code 0 is the most frequent one (measured: text brotli 122 B smaller on micro, 171 B on tiny; binary within noise;
# rt_book subtracting it measured smaller than a book address moved back by it)
CODE_BASE = 1  # as rt_book in c/runtime.h subtracts it
KINDS = ("steps", "codes", "book")  # the blob holds each kind of stream together, in this order


@dataclass(frozen=True)
class Sparse:
    """A constant stored as codes of its non-zero bytes: the tensor and its codes."""

    tensor: Tensor
    codes: Codes

    def streams(self) -> dict[str, bytes]:
        return {"steps": self.codes.steps.tobytes(), "codes": self.codes.codes.tobytes(),
                "book": self.codes.book.tobytes()}

    def decode_call(self, at: dict[str, int]) -> str:
        """The C statement decoding it from the blob offsets of its streams."""
        return (f"rt_unpack((uint8_t *){self.tensor.sym}_d, rt_blob + {at['steps']}, rt_blob + {at['codes']}, "
                f"rt_blob + {at['book']}, {len(self.codes.steps)});")


@dataclass(frozen=True)
class Dense:
    """A constant stored as a code per element (`packing.encode_dense`), a byte each (+ CODE_BASE) or `bits` bits
    each."""

    tensor: Tensor
    codes: Codes
    bits: int  # 8: a byte per code

    def streams(self) -> dict[str, bytes]:
        return {"codes": self.packed(), "book": self.codes.book.tobytes()}

    def packed(self) -> bytes:
        """The codes, a byte each or `bits` bits each from the lowest bit of each byte, the last byte zero padded."""
        if self.bits == 8:
            return (self.codes.codes + CODE_BASE).astype(np.uint8).tobytes()
        bits = (self.codes.codes[:, None] >> np.arange(self.bits, dtype=np.uint8)) & 1
        return np.packbits(bits.reshape(-1), bitorder="little").tobytes()

    def decode_call(self, at: dict[str, int]) -> str:
        """The C statement decoding it from the blob offsets of its streams: a call per constant, whose address
        constants brotli matches with the DequantizeLinear calls beside them (a table of 5 bytes per constant
        read by one call measured larger: bench/codes.md)."""
        out, n = f"(uint8_t *){self.tensor.sym}_d", self.tensor.size
        if self.bits == 8:  # rt_book subtracts CODE_BASE
            return f"rt_book({out}, rt_blob + {at['codes']}, rt_blob + {at['book']}, {n});"
        return f"rt_unbits({out}, rt_blob + {at['codes']}, rt_blob + {at['book']}, {n}, {self.bits});"


Coded = Sparse | Dense


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


def dense(consts: list[Tensor], form: str) -> dict[str, Dense]:
    """Every byte constant of DENSE_MIN or more elements and at most DENSE_VALUES distinct values, as codes in
    `form` (one of FORMS)."""
    found = {}
    for t in consts:
        if t.dtype not in _BYTES or t.size < DENSE_MIN:
            continue
        codes = encode_dense(t.const, DENSE_VALUES)
        if codes is not None:
            bits = 8 if form == "bytes" else max(1, int(np.ceil(np.log2(len(codes.book)))))
            found[t.sym] = Dense(t, codes, bits)
    return found


def streams(codes: Codes) -> bytes:
    return codes.steps.tobytes() + codes.codes.tobytes() + codes.book.tobytes()


def declare(s: Coded) -> str:
    """The zeroed array `init` decodes into, under the symbol the kernels read."""
    t = s.tensor
    return (f"static {t.ctype} {t.sym}_d[{t.size}] __attribute__((aligned(16)));\n"
            f"#define {t.sym} ((const {t.ctype} *){t.sym}_d)")
