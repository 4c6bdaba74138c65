"""The explicit registry of kernel generators: (domain, op_type) -> emitter, one module per operator family."""

from __future__ import annotations

from edgeshrink.runtime.kernels import (
    activation,
    conv,
    dynamic,
    elementwise,
    gemm,
    pool,
    qbinary,
    qlinear,
    shape,
    softmax,
)
from edgeshrink.runtime.kernels.base import Emitter

_FAMILIES = (activation, conv, dynamic, elementwise, gemm, pool, qbinary, qlinear, shape, softmax)


def _build() -> dict[tuple[str, str], Emitter]:
    table: dict[tuple[str, str], Emitter] = {}
    for family in _FAMILIES:
        for key, emitter in family.KERNELS.items():
            if key in table:
                raise ValueError(f"kernel {key} registered twice (again in {family.__name__})")
            table[key] = emitter
    return table


KERNELS = _build()


def lookup(domain: str, op_type: str) -> Emitter | None:
    return KERNELS.get(("" if domain == "ai.onnx" else domain, op_type))


def supported() -> list[str]:
    """'Op' or 'domain.Op' for every operator the compiler has a kernel for."""
    return sorted(f"{d}.{op}" if d else op for d, op in KERNELS)
