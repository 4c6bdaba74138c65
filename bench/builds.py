"""The two builds of the page's model.wasm side by side: "fast" (-O3, each kernel unrolled for its shapes) and
"small" (-Os), from the same generated C; and which one a page carries (runtime/compiler.py's PAGE_SHARE).

Per model: the module's bytes (raw, brotli), its per-digit latency in Node (medians of 3 alternating rounds of
300 calls on 50 real test digits), whether its scores on 1,000 test digits are bit-identical to the fast
build's (in wasmtime), and what the smaller module saves on a 4g link (9 Mbit/s) against what it costs per digit.

    python bench/builds.py [--models out/bench/micro.small/model.opt.onnx,...] [--out bench/builds.md]

The default models are the optimize outputs `python bench/browser.py` makes in out/bench, and two float inputs.
"""

from __future__ import annotations

from dataclasses import replace

import machine  # noqa: E402  (bench/machine.py)
import numpy as np

from edgeshrink import atomic
from edgeshrink import data as mnist
from edgeshrink.core import model as model_io
from edgeshrink.runtime import compile_model, node, toolchain, wasm
from edgeshrink.runtime.compiler import PAGE_SHARE, WASM_FILE
from edgeshrink.size import measure

ROOT = machine.ROOT
MODELS = ["out/bench/micro.small/model.opt.onnx", "out/bench/tiny.small/model.opt.onnx",
          "out/bench/max/model.opt.onnx", "out/bench/lenet300.max/model.opt.onnx", "out/bench/tiny.onnx",
          "out/bench/lenet5.onnx"]
LINK_BYTES_PER_MS = 9e6 / 8 / 1000  # the 4g profile of edgeshrink.web.check.timing


def main() -> None:
    args = machine.options(__doc__, "builds.md", MODELS)
    test = mnist.load("test")
    tools = (f"{machine.two_builds()}. A page carries the small build when it saves at least {PAGE_SHARE:.0%} of "
             "the fast module's brotli bytes.")
    lines = [*machine.preamble("The page's model.wasm: the fast build against the small one", "builds.py",
                               args.models, tools, "one digit per call",
                               "Saved on 4g: the bytes the small build saves, at 9 Mbit/s."),
             "| model | fast: wasm B | brotli | ms per digit | small: wasm B | brotli | ms per digit | scores "
             "as fast's | saved on 4g | a page takes |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |"]
    for path in args.models.split(","):
        proto = model_io.load(ROOT / path)
        signature = model_io.stored_signature(proto)
        fast = compile_model(proto, signature)
        small = replace(fast, files={**fast.files, WASM_FILE: toolchain.build(fast.source, level="small")})
        chosen = compile_model(proto, signature, build="page").build
        inputs = wasm.feed_images(signature, test.images[:1000])
        same = np.array_equal(wasm.run_images(small, inputs), wasm.run_images(fast, inputs))
        ms = node.alternating_ms({"fast": fast, "small": small}, signature, test.images[:50])
        sizes = {name: measure(v.files[WASM_FILE]) for name, v in (("fast", fast), ("small", small))}
        saved = (sizes["fast"].brotli - sizes["small"].brotli) / LINK_BYTES_PER_MS
        lines.append(f"| {path} | " + " | ".join(
            f"{sizes[n].raw:,} | {sizes[n].brotli:,} | {ms[n]:.3f}" for n in ("fast", "small"))
            + f" | {'yes' if same else 'NO'} | {saved:.2f} ms | {chosen} |")
        print(lines[-1], flush=True)
    atomic.write_text(args.out, "\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
