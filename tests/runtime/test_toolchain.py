"""The compiler from the ziglang wheel gives the same module on every machine; zero runs are cut from its data;
wasmtime runs it exactly as Node's V8 does."""

from __future__ import annotations

import hashlib
import shutil

import numpy as np
import pytest
from onnx import helper

from edgeshrink.runtime import node, pack, toolchain, wasm
from edgeshrink.runtime.compiler import WASM_FILE, compile_graph
from tests.runtime.kernel_check import graph

# The module zig 0.17.1 builds for `_pruned()`, on the machine that wrote this line: any other digest means the
# compiler or the generated C changed (then the same model no longer gives the same page everywhere).
DIGEST = "ae5f9116f974285a12dae76bd8da338a4b25b005c38d8b895a1a10e03018ccd8"


def _pruned():
    """Conv -> Relu -> Gemm with fixed weights, three quarters of them zero (a pruned model's data)."""
    rng = np.random.default_rng(7)
    w = rng.normal(0, 0.1, (8, 1, 3, 3)).astype(np.float32)
    dense = rng.normal(0, 0.05, (10, 8 * 26 * 26)).astype(np.float32)
    dense[:, : dense.shape[1] * 3 // 4] = 0
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"]), helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("Flatten", ["r"], ["f"]), helper.make_node("Gemm", ["f", "d"], ["y"], transB=1)]
    return graph(nodes, (1, 1, 28, 28), inits={"w": w, "d": dense})


def test_two_builds_give_the_same_module_and_it_runs_without_clang(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")  # nothing from the system: the wheel's compiler only
    first, second = (compile_graph(_pruned()).files[WASM_FILE] for _ in range(2))
    assert first == second
    assert toolchain.tools().name == "zig 0.17.1"
    assert hashlib.sha256(first).hexdigest() == DIGEST


def test_packing_keeps_the_memory_and_drops_the_zeros():
    source = ("static const unsigned char W[4096] = {1, 2, [2000] = 3, [4095] = 4};\n"
              '__attribute__((export_name("at"))) int at(int i) { return W[i]; }\n'
              '__attribute__((export_name("input"))) void *input(void) { return (void *)W; }\n')
    whole = toolchain.linked(source)
    packed = pack.pack(whole)
    assert len(packed) < len(whole) - 4000
    assert _memory(packed) == _memory(whole)


def _memory(module: bytes) -> bytes:
    import wasmtime

    store = wasmtime.Store()
    exports = wasmtime.Instance(store, wasmtime.Module(store.engine, module), []).exports(store)
    memory = exports["memory"]
    return bytes(memory.read(store, 0, memory.data_len(store)))


@pytest.mark.skipif(shutil.which("node") is None, reason="Node is not installed: nothing to compare wasmtime with")
def test_wasmtime_gives_v8s_scores_bit_for_bit(test_split):
    compiled = compile_graph(_pruned())
    images = (test_split.images[:200].astype(np.float32) / 255).reshape(200, -1)
    assert np.array_equal(wasm.run_images(compiled, images), node.run_images(compiled, images))
