"""Which constants the compiled module stores as codes: sparse byte weights, not dense or wide ones."""

from __future__ import annotations

import numpy as np

from edgeshrink.packing import decode
from edgeshrink.runtime import sparse
from edgeshrink.runtime.program import Tensor


def _tensor(array: np.ndarray, sym: str) -> Tensor:
    return Tensor(sym, array.shape, array.dtype, sym, array)


def test_sparse_byte_weights_are_coded_and_dense_or_wide_ones_are_not():
    rng = np.random.default_rng(0)
    sparse_w = np.where(rng.random(20000) < 0.08, rng.integers(-20, 21, 20000), 0).astype(np.int8)
    dense_w = rng.integers(-127, 128, 4096).astype(np.int8)
    wide = sparse_w.astype(np.int32)
    small = sparse_w[:100]
    chosen = sparse.choose([_tensor(sparse_w, "A"), _tensor(dense_w, "B"), _tensor(wide, "C"), _tensor(small, "D")])
    assert list(chosen) == ["A"]
    assert np.array_equal(decode(chosen["A"].codes), sparse_w)
    assert "static int8_t A_d[20000]" in sparse.declare(chosen["A"])
