"""Which representation of shared (clustered) weights transfers smallest, at equal accuracy?

Takes a model written by the `cluster` pass (e.g. `NN-cluster.onnx` of a `max` run) and stores its weights
six ways, each run by onnxruntime on the 10,000 test images:

- float32, as the cluster pass leaves them (16 distinct values per layer);
- static QDQ as onnxruntime quantizes it by default (a scale per channel: one shared value, many codes);
- static QDQ with one range for all channels of a shared weight (what `quantize` does after `cluster`);
- int8 weight codes behind a DequantizeLinear, float arithmetic (`quantize` mode `weights`);
- a uint8 index per weight and a float codebook, through Cast and Gather;
- a uint4 index (two per byte, opset 21) and a float codebook: DequantizeLinear, Cast, Gather.

    python bench/shared_weights.py out/bench/lenet5.max/05-cluster.onnx [--results bench/shared_weights.md]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import machine  # noqa: E402  (bench/machine.py)
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from edgeshrink import api, atomic, data, inference
from edgeshrink.core.model import clone
from edgeshrink.passes.base import PassContext
from edgeshrink.passes.int8grid import weight_axes
from edgeshrink.passes.quantize import QuantizeConfig
from edgeshrink.passes.quantize import run as quantize
from edgeshrink.passes.quantize.weights import quantize as weights_only
from edgeshrink.size import measure


def _with_nodes(model: onnx.ModelProto, name: str, inits: list, nodes: list) -> None:
    """Replace initializer `name` by `inits` and the `nodes` that compute it."""
    kept = [i for i in model.graph.initializer if i.name != name]
    del model.graph.initializer[:]
    model.graph.initializer.extend(kept + inits)
    rest = list(model.graph.node)
    del model.graph.node[:]
    model.graph.node.extend(nodes + rest)


def codebook(model: onnx.ModelProto, nibbles: bool) -> onnx.ModelProto:
    """Each weight as an index into a codebook (index 0: zero), uint8 or uint4."""
    out = clone(model)
    if nibbles:
        out.opset_import[0].version = max(out.opset_import[0].version, 21)
        out.ir_version = max(out.ir_version, 10)
    for name in weight_axes(model):
        w = numpy_helper.to_array(next(i for i in model.graph.initializer if i.name == name))
        values = np.unique(w[w != 0])
        zero = bool((w == 0).any())  # a pruned layer's zero takes index 0 (the cluster pass leaves room)
        book = np.concatenate([[0] if zero else [], values]).astype(np.float32)
        index = np.searchsorted(values, w) + int(zero)
        index[w == 0] = 0
        i, c, f, n = (f"{name}_{s}" for s in "icfn")
        if nibbles:
            idx = helper.make_tensor(i, TensorProto.UINT4, w.shape, index.ravel().tolist())
            decode = [helper.make_node("DequantizeLinear", [i, f"{name}_one"], [f]),
                      helper.make_node("Cast", [f], [n], to=TensorProto.INT64)]
            extra = [numpy_helper.from_array(np.float32(1), f"{name}_one")]
        else:
            idx = numpy_helper.from_array(index.astype(np.uint8), i)
            decode, extra = [helper.make_node("Cast", [i], [n], to=TensorProto.INT64)], []
        _with_nodes(out, name, [idx, numpy_helper.from_array(book, c), *extra],
                    decode + [helper.make_node("Gather", [c, n], [name])])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path)
    parser.add_argument("--results", type=Path, default=Path(__file__).with_name("shared_weights.md"))
    args = parser.parse_args()
    opened = api.open_model(args.model)
    model, signature = opened.model, opened.detection.signature
    ctx = PassContext(signature, data.load("train"))
    test = data.load("test")
    variants = {
        "float32 (cluster's output)": model,
        "static QDQ, onnxruntime's per-channel scales": _unshared(model, ctx),
        "static QDQ, one range per shared weight (`quantize` after `cluster`)": quantize(model, QuantizeConfig(), ctx),
        "int8 codes + DequantizeLinear, float arithmetic (`quantize` mode `weights`)": weights_only(model, True),
        "uint8 index + codebook (Cast, Gather)": codebook(model, nibbles=False),
        "uint4 index + codebook (opset 21: DequantizeLinear, Cast, Gather)": codebook(model, nibbles=True),
    }
    lines = ["# Shared weights: which representation transfers smallest", "",
             f"Model: `{args.model}`; produced by `python bench/shared_weights.py {args.model}`.", "",
             *machine.markdown(),
             "| representation | test accuracy | raw | gzip -9 | brotli |", "|---|---:|---:|---:|---:|"]
    for label, variant in variants.items():
        onnx.checker.check_model(variant)
        acc = inference.accuracy(inference.session(variant, threads=1), signature, test.images, test.labels)
        size = measure(variant.SerializeToString())
        lines.append(f"| {label} | {100 * acc:.2f}% | {size.raw:,} | {size.gzip:,} | {size.brotli:,} |")
        print(lines[-1], flush=True)
    atomic.write_text(args.results, "\n".join(lines) + "\n")
    print(f"wrote {args.results}")


def _unshared(model: onnx.ModelProto, ctx: PassContext) -> onnx.ModelProto:
    """onnxruntime's own choice of a scale per channel (the shared-range overrides switched off)."""
    from edgeshrink.passes.quantize import surgery

    original = surgery.shared_grid_overrides
    surgery.shared_grid_overrides = lambda m: {}
    try:
        return quantize(model, QuantizeConfig(), ctx)
    finally:
        surgery.shared_grid_overrides = original


if __name__ == "__main__":
    main()
