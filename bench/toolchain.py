"""Which compiler builds the page's model.wasm: zig's clang from the ziglang wheel (the default) against the
system's clang 14 + wasm-ld, each with edgeshrink's zero-run packing or with wasm-opt -O3, side by side.

For each model, the same generated C is built four ways; the table gives the module's bytes (raw, gzip -9,
brotli), its per-digit latency in Node (medians of 3 alternating rounds of 300 calls on 50 real test digits)
and whether its scores on 1,000 test digits are bit-identical to the default build's (run in wasmtime).

    python bench/toolchain.py [--models out/bench/lenet5.onnx,...] [--out bench/toolchain.md]

The default models are those `python bench/deep_compression.py` writes into out/bench.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path

import machine  # noqa: E402  (bench/machine.py)
import numpy as np

from edgeshrink import data as mnist
from edgeshrink.core import model as model_io
from edgeshrink.runtime import compile_model, node, pack, toolchain, wasm
from edgeshrink.runtime.compiler import WASM_FILE
from edgeshrink.size import measure

ROOT = machine.ROOT
MODELS = ["out/bench/lenet5.onnx", "out/bench/lenet5.max/model.opt.onnx", "out/bench/lenet300.onnx",
          "out/bench/lenet300.max/model.opt.onnx"]
WASM_OPT = ["-O3", "--enable-simd", "--enable-bulk-memory", "--enable-nontrapping-float-to-int", "--enable-sign-ext"]


def builds(source: str) -> dict[str, bytes]:
    """The module four ways: {zig, system clang} x {packed, wasm-opt -O3}."""
    out = {}
    for cc in ("zig", "clang"):
        os.environ[toolchain.ENV] = cc
        linked = toolchain.linked(source)
        out[f"{toolchain.tools().name.split(' (')[0]} + packing"] = pack.pack(linked)
        out[f"{toolchain.tools().name.split(' (')[0]} + wasm-opt -O3"] = _wasm_opt(linked)
    os.environ.pop(toolchain.ENV)
    return out


def _wasm_opt(module: bytes) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.wasm"
        path.write_bytes(module)
        subprocess.run([shutil.which("wasm-opt"), *WASM_OPT, str(path), "-o", str(path)], check=True)
        return path.read_bytes()


def main() -> None:
    args = machine.options(__doc__, "toolchain.md", MODELS)
    test = mnist.load("test")
    clang = subprocess.run(["clang", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    wasm_opt = subprocess.run(["wasm-opt", "--version"], capture_output=True, text=True).stdout.strip()
    tools = f"zig: {toolchain.tools().name} (PyPI `ziglang`); system: {clang}; {wasm_opt}."
    lines = [*machine.preamble("The page's model.wasm: zig's compiler (ziglang wheel) against the system's clang",
                               "toolchain.py", args.models, tools, "one digit per call"),
             "| model | build | wasm B | gzip -9 | brotli | ms per digit (Node) | scores as the default's | sha256 |",
             "| --- | --- | ---: | ---: | ---: | ---: | --- | --- |"]
    for path in args.models.split(","):
        proto = model_io.load(ROOT / path)
        signature = model_io.stored_signature(proto)
        compiled = compile_model(proto, signature)
        built = builds(compiled.source)
        variants = {name: replace(compiled, files={**compiled.files, WASM_FILE: data}) for name, data in built.items()}
        inputs = wasm.feed_images(signature, test.images[:1000])
        default = wasm.run_images(variants["zig 0.17.1 + packing"], inputs)
        ms = node.alternating_ms(variants, signature, test.images[:50])
        for name, variant in variants.items():
            size = measure(variant.files[WASM_FILE])
            same = np.array_equal(wasm.run_images(variant, inputs), default)
            lines.append(f"| {path} | {name} | {size.raw:,} | {size.gzip:,} | {size.brotli:,} | "
                         f"{ms[name]:.4f} | {'yes' if same else 'NO'} | "
                         f"`{hashlib.sha256(variant.files[WASM_FILE]).hexdigest()[:12]}` |")
        print("\n".join(lines[-4:]), flush=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
