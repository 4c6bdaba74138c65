"""What the module's init work and dense codes change: each model compiled without them (nodes on constants run per
digit, dense byte weights stored as they are) and with them (those nodes run once in init; dense byte constants of
few values stored as codes where the whole module measures smaller: runtime/sparse.py), in both builds.

Per model and build: the module's bytes (raw, brotli, gzip), its brotli bytes in the page's text form (the wasm
inside index.html, one character per byte, unrotated: edgeshrink.web.assemble.wasmtext.as_text), the per-digit latency in Node
(medians of 3 alternating rounds of 300 calls on 50 real test digits, all four modules of a model in turn), and
whether its scores on 1,000 real test digits are the other module's bit for bit (wasmtime).

    python bench/codes.py [--models out/bench/micro.small/model.opt.onnx,...] [--out bench/codes.md]
"""

from __future__ import annotations

import machine  # noqa: E402  (bench/machine.py)
import numpy as np

from edgeshrink import atomic
from edgeshrink import data as mnist
from edgeshrink.core import model as model_io
from edgeshrink.runtime import node, wasm
from edgeshrink.runtime.compiler import WASM_FILE, from_prepared
from edgeshrink.runtime.prepare import prepare
from edgeshrink.size import measure
from edgeshrink.web.assemble.compress import compress
from edgeshrink.web.assemble.wasmtext import as_text

ROOT = machine.ROOT
MODELS = ["out/bench/micro.small/model.opt.onnx", "out/bench/tiny.small/model.opt.onnx",
          "out/bench/max/model.opt.onnx", "out/bench/lenet5.onnx"]
BUILDS = ("fast", "small")


def _row(compiled) -> list[str]:
    module = compiled.files[WASM_FILE]
    size, text = measure(module), len(compress(as_text(module).encode())[1])
    return [f"{size.raw:,}", f"{size.brotli:,}", f"{size.gzip:,}", f"{text:,}"]


def main() -> None:
    args = machine.options(__doc__, "codes.md", MODELS)
    test = mnist.load("test")
    tools = (f"{machine.two_builds()} (a page takes the small build of micro, tiny and LeNet max). *Before*: nodes "
             "whose inputs are all constants run for every digit and dense byte constants are stored as they are "
             "(`from_prepared(..., hoist=False, forms=())`); *after*: the compiler's defaults. Text brotli: the wasm "
             "as the page carries it inside index.html (`as_text`, bytes >= 0x80 are two UTF-8 bytes), brotli -q 11.")
    lines = [*machine.preamble("Constant work once, at init, and dense byte weights as codes", "codes.py", args.models,
                               tools, "the four modules of a model in turn", "Same scores: after's scores on 1,000 "
                               "real test digits are before's bit for bit (wasmtime)."),
             "| model | build | | wasm B | brotli | gzip | text brotli | ms per digit | dense form | same scores |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    for path in args.models.split(","):
        proto = model_io.load(ROOT / path)
        signature = model_io.stored_signature(proto)
        prepared = prepare(proto, signature)
        modules = {}
        for build in BUILDS:
            modules[f"{build} before"] = from_prepared(prepared, level=build, hoist=False, forms=())
            modules[f"{build} after"] = from_prepared(prepared, level=build)
        ms = node.alternating_ms(modules, signature, test.images[:50])
        inputs = wasm.feed_images(signature, test.images[:1000])
        scores = {name: wasm.run_images(c, inputs).view(np.uint32) for name, c in modules.items()}
        for build in BUILDS:
            same = np.array_equal(scores[f"{build} before"], scores[f"{build} after"])
            for when in ("before", "after"):
                compiled = modules[f"{build} {when}"]
                form = next((n.split("(")[1].split(")")[0] for n in compiled.notes if "as codes (" in n), "-")
                lines.append(f"| {path} | {build} | {when} | " + " | ".join(_row(compiled))
                             + f" | {ms[f'{build} {when}']:.3f} | {form if when == 'after' else '-'} | "
                             + ("yes" if same else "NO") + " |")
                print(lines[-1], flush=True)
    atomic.write_text(args.out, "\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
