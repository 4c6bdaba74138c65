"""The contract other parts of edgeshrink code against: files, entry, UnsupportedModel with a reason."""

import pytest
from onnx import helper

from edgeshrink.core.signature import PRESETS, Signature
from edgeshrink.errors import EdgeshrinkError
from edgeshrink.runtime import Compiled, UnsupportedModel, compile_model
from tests.runtime.kernel_check import graph, rand

SIG = Signature("x", "NCHW", None, "float32", PRESETS["unit"], output_name="y")


def _mnist_model(op_nodes):
    w = rand((10, 784), 1)
    nodes = op_nodes + [helper.make_node("Flatten", ["h"], ["f"]), helper.make_node("Gemm", ["f", "w"], ["y"], transB=1)]
    model = graph(nodes, ("N", 1, 28, 28), inits={"w": w})
    return model


def test_files_and_entry():
    compiled = compile_model(_mnist_model([helper.make_node("Relu", ["x"], ["h"])]), SIG)
    assert isinstance(compiled, Compiled)
    assert set(compiled.files) == {"model.wasm", "model.mjs"} and compiled.entry == "model.mjs"
    assert compiled.files["model.wasm"][:4] == b"\0asm"
    assert b"onnxruntime" not in compiled.files["model.mjs"]


def test_unsupported_operator_is_named():
    model = _mnist_model([helper.make_node("LRN", ["x"], ["h"], size=3)])
    with pytest.raises(UnsupportedModel, match="operator LRN is not supported"):
        compile_model(model, SIG)
    assert issubclass(UnsupportedModel, EdgeshrinkError)


def test_float16_input_is_unsupported():
    with pytest.raises(UnsupportedModel, match="float16"):
        compile_model(_mnist_model([helper.make_node("Relu", ["x"], ["h"])]), SIG.__class__(**{**SIG.__dict__, "dtype": "float16"}))


def test_the_compiler_needs_nothing_on_path(monkeypatch):
    """zig's compiler comes with the ziglang wheel: no clang, wasm-ld or wasm-opt on PATH is needed."""
    monkeypatch.setenv("PATH", "/nonexistent")
    compiled = compile_model(_mnist_model([helper.make_node("Relu", ["x"], ["h"])]), SIG)
    assert compiled.files["model.wasm"][:4] == b"\0asm"


def test_system_clang_when_missing_names_the_fix(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv("EDGESHRINK_CC", "clang")
    with pytest.raises(UnsupportedModel, match=r"EDGESHRINK_CC=clang but clang, wasm-ld is not on PATH: install"):
        compile_model(_mnist_model([helper.make_node("Relu", ["x"], ["h"])]), SIG)


def test_es_module_loads_by_url_and_by_default(tmp_path):
    """`load()` takes a URL (or nothing: the wasm beside the module), the bytes or a compiled WebAssembly.Module;
    run() checks its input."""
    import subprocess

    compiled = compile_model(_mnist_model([helper.make_node("Relu", ["x"], ["h"])]), SIG)
    for name, data in compiled.files.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "check.mjs").write_text(
        'const mod = await import("./model.mjs");\n'
        'const a = await mod.load(new URL("./model.wasm", import.meta.url)), b = await mod.load();\n'
        'const bytes = (await import("node:fs")).readFileSync(new URL("./model.wasm", import.meta.url));\n'
        'const c = await mod.load(await WebAssembly.compile(bytes)), d = await mod.load(bytes);\n'
        'const x = new Float32Array(784).fill(0.5);\n'
        'const r = a.run(x);\n'
        'let err = ""; try { a.run(new Float32Array(3)); } catch (e) { err = e.message; }\n'
        'const same = [b, c, d].every((m) => m.run(x).every((v, i) => v === r[i]));\n'
        'console.log(JSON.stringify([r.constructor.name, r.length, same, err]));\n')
    out = subprocess.run(["node", str(tmp_path / "check.mjs")], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == '["Float32Array",10,true,"expected 784 input values, got 3"]'
