"""Build one-operator ONNX graphs and compare the compiled runtime (in wasmtime) with onnxruntime on them."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from edgeshrink.runtime.compiler import compile_graph
from edgeshrink.runtime.wasm import run_images

NP = {np.float32: TensorProto.FLOAT, np.uint8: TensorProto.UINT8, np.int8: TensorProto.INT8,
      np.int32: TensorProto.INT32, np.int64: TensorProto.INT64, np.float64: TensorProto.DOUBLE}


def graph(node_or_nodes, x_shape, x_type=np.float32, y_type=np.float32, inits: dict | None = None,
          opset: int = 17, ms: bool = False) -> onnx.ModelProto:
    """A model with input `x`, output `y` and the given nodes and initializers (numpy arrays)."""
    nodes = node_or_nodes if isinstance(node_or_nodes, list) else [node_or_nodes]
    g = helper.make_graph(
        nodes, "kernel",
        [helper.make_tensor_value_info("x", NP[x_type], list(x_shape))],
        [helper.make_tensor_value_info("y", NP[y_type], None)],
        [numpy_helper.from_array(np.asarray(v), k) for k, v in (inits or {}).items()],
    )
    imports = [helper.make_opsetid("", opset)] + ([helper.make_opsetid("com.microsoft", 1)] if ms else [])
    return helper.make_model(g, opset_imports=imports, ir_version=8)


def fma_kernels() -> bool:
    """Whether onnxruntime's float kernels on this CPU are the fused multiply-add ones (AVX2 with FMA3, as on every
    x86 CPU since 2013) whose exp and logistic polynomials the compiled runtime reproduces bit for bit. Without
    FMA (SSE only, e.g. QEMU's Nehalem) onnxruntime rounds them differently, in the last bit."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as found
    except ImportError:  # numpy 1.x
        from numpy.core._multiarray_umath import __cpu_features__ as found
    return bool(found.get("FMA3") and found.get("AVX2"))


def exact_onnxruntime(model: onnx.ModelProto):
    """An onnxruntime session with exact int8 arithmetic on this CPU: never the compiled runtime standing in for it
    (the compiled runtime is what these tests check), so the test skips where onnxruntime cannot be exact."""
    import pytest

    from edgeshrink import engine

    sess, took_option = engine.open_session(model)
    why = engine.inexact(model, took_option)
    if why:
        pytest.skip(f"onnxruntime computes no exact reference for this graph on this CPU: {why}")
    return sess


def reference(model: onnx.ModelProto, xs: list[np.ndarray]) -> np.ndarray:
    sess = exact_onnxruntime(model)
    return np.stack([np.asarray(sess.run(None, {"x": x})[0]).astype(np.float32).reshape(-1) for x in xs])


def compiled_outputs(model: onnx.ModelProto, xs: list[np.ndarray]) -> np.ndarray:
    return run_images(compile_graph(model), np.stack([x.reshape(-1) for x in xs]))


def assert_matches(model: onnx.ModelProto, xs: list[np.ndarray], exact: bool = True, tol: float = 1e-5) -> None:
    """Bit-identical scores (exact) or close ones (float kernels summing in another order)."""
    got, want = compiled_outputs(model, xs), reference(model, xs)
    assert got.shape == want.shape
    if exact:
        bad = np.flatnonzero(got.view(np.uint32) != want.view(np.uint32))
        assert bad.size == 0, f"{bad.size} values differ, first at {bad[0]}: {got.reshape(-1)[bad[0]]} vs {want.reshape(-1)[bad[0]]}"
    else:
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def rand(shape, seed: int = 0, dtype=np.float32, low=-2.0, high=2.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind in "iu":
        return rng.integers(low, high + 1, size=shape).astype(dtype)
    return rng.uniform(low, high, size=shape).astype(dtype)
