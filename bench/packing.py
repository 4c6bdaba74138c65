"""What `pack` and the compiled module's codes save: the ONNX file and the page's model bytes before and after.

For each final model given (a run folder's model.opt.onnx, or an .onnx file), read and never written:
- the ONNX file as `optimize` wrote it and after the `pack` pass (raw, gzip -9, brotli -q 11), and whether
  onnxruntime gives the same scores, bit for bit, on the 10,000 test images;
- the page's model bytes, the compiled model.wasm, with every weight dense (as before) and with sparse weights
  stored as codes, and whether its scores (wasmtime) are onnxruntime's bit for bit on the 10,000 test images;
- the same codes with the non-zero weights' codes bit-packed to the bits they need (ceil(log2 k)), the form the
  issue asked for, measured as the file's weight streams (not runnable at 5 bits: ONNX has no 5-bit type);
- with --bits: each layer shared again to 2^b - 1 values at each b by k-means on its int8 codes, without
  training (the accuracy is what that costs untrained, for the sizes only), and the file dense int8, packed
  with byte codes, packed with UINT4/UINT2 codes, and dense UINT4/UINT2 codes (the sub-byte ONNX types at
  opset 21/25, run by onnxruntime to check the scores).

    python bench/packing.py RUN_OR_ONNX... [--bits 4 3 2] [--note TEXT]... [--out bench/packing.md]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import machine  # noqa: E402  (bench/machine.py)

from edgeshrink import atomic, data, inference, packing  # noqa: E402
from edgeshrink.core.model import stored_signature  # noqa: E402
from edgeshrink.passes import pack  # noqa: E402
from edgeshrink.passes.base import PassContext  # noqa: E402
from edgeshrink.passes.cluster import kmeans  # noqa: E402
from edgeshrink.runtime import compile_model, sparse  # noqa: E402
from edgeshrink.runtime.wasm import feed_images, run_images  # noqa: E402
from edgeshrink.size import Size, measure  # noqa: E402

SUB_BYTE = {4: (TensorProto.UINT4, 21), 3: (TensorProto.UINT4, 21), 2: (TensorProto.UINT2, 25)}


def _final(path: Path) -> Path:
    return path / "model.opt.onnx" if path.is_dir() else path


def _about(path: Path) -> str:
    """Where a model came from: its run folder's recipe, budget and baseline, or just the file."""
    report = path / "report.json"
    if not report.is_file():
        return f"`{path.name}`: the file as given"
    doc = json.loads(report.read_text())
    base = doc["baseline"]
    return (f"`{path.name}`: the final model (model.opt.onnx) of an `edgeshrink optimize` run, recipe "
            f"`{doc['recipe']}`, `--max-drop {doc['max_drop']:g}`, from {doc['model']} at "
            f"{100 * base['accuracy']:.2f}% ({base['size']['raw']:,} B raw)")


def _cell(size: Size) -> str:
    return f"{size.raw:,} | {size.gzip:,} | {size.brotli:,}"


def _scores(model: onnx.ModelProto, signature, pixels: np.ndarray) -> np.ndarray:
    return inference.scores(inference.session(model, threads=1, signature=signature), signature, pixels)


def _compiled(model: onnx.ModelProto, signature, coded: bool):
    if coded:
        return compile_model(model, signature)
    choose = sparse.choose
    sparse.choose = lambda consts: {}  # every constant dense: the module before this change
    try:
        return compile_model(model, signature)
    finally:
        sparse.choose = choose


def _bitpacked(codes: packing.Codes) -> bytes:
    """The streams with each stored code in ceil(log2 k) bits, little-endian within bytes."""
    bits = max(1, int(np.ceil(np.log2(len(codes.book)))))
    unpacked = ((codes.codes[:, None].astype(np.uint16) >> np.arange(bits)) & 1).astype(np.uint8).reshape(-1)
    return codes.steps.tobytes() + np.packbits(unpacked, bitorder="little").tobytes() + codes.book.tobytes()


def model_row(path: Path, test) -> dict:
    model = onnx.load(str(_final(path)))
    signature = stored_signature(model)
    packed = pack.run(model, pack.PackConfig(), PassContext(signature, None))
    before_scores, after_scores = _scores(model, signature, test.images), _scores(packed, signature, test.images)
    accuracy = float((after_scores.argmax(1) == test.labels).mean())
    wasm_before, wasm_after = _compiled(model, signature, False), _compiled(packed, signature, True)
    compiled_scores = run_images(wasm_after, feed_images(signature, test.images))
    found = packing.packed_weights(packed)
    streams = [sum((measure(f(c)) for c in found.values()), Size()) for f in (sparse.streams, _bitpacked)]
    return {"name": str(path), "accuracy": accuracy,
           "onnx": (measure(model.SerializeToString()), measure(packed.SerializeToString())),
           "wasm": (measure(wasm_before.files["model.wasm"]), measure(wasm_after.files["model.wasm"])),
           "identical": bool(np.array_equal(before_scores, after_scores)),
           "compiled_identical": bool(np.array_equal(compiled_scores, after_scores.astype(np.float32))),
           "packed": f"{len(found)} of {len(pack.weights(model))}", "streams": streams}


def reshared(model: onnx.ModelProto, bits: int) -> onnx.ModelProto:
    """`model` with each packable layer's int8 codes shared again to at most 2^bits - 1 non-zero values."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    for init in out.graph.initializer:
        if init.name in pack.weights(model):
            w = numpy_helper.to_array(init)
            book = kmeans.share(w.astype(np.float32), 2 ** bits - 1)
            init.CopyFrom(numpy_helper.from_array(np.round(book.weights()).astype(w.dtype), init.name))
    return out


def _sub_byte(model: onnx.ModelProto, bits: int, dense: bool) -> onnx.ModelProto:
    """Every packable layer's codes as UINT4/UINT2: packed (steps + codes) or dense codes behind a Gather."""
    kind, opset = SUB_BYTE[bits]
    out = onnx.ModelProto()
    out.CopyFrom(model)
    for name in pack.weights(model):
        init = next(i for i in out.graph.initializer if i.name == name)
        codes = packing.encode(numpy_helper.to_array(init))
        if dense:
            w = numpy_helper.to_array(init).reshape(-1)
            index = np.searchsorted(codes.book[1:], w) + 1
            index[w == 0] = 0
            out.graph.initializer.remove(init)
            c, i64, flat, shape = (f"{name}{s}" for s in ("_c", "_i", "_v", "_s"))
            out.graph.initializer.extend([helper.make_tensor(c, kind, [w.size], index.tolist()),
                                          numpy_helper.from_array(codes.book, f"{name}_b"),
                                          numpy_helper.from_array(np.array(codes.shape, np.int64), shape)])
            nodes = [helper.make_node("Cast", [c], [i64], to=TensorProto.INT64),
                     helper.make_node("Gather", [f"{name}_b", i64], [flat]),
                     helper.make_node("Reshape", [flat, shape], [name])]
            rest = list(out.graph.node)
            del out.graph.node[:]
            out.graph.node.extend(nodes + rest)
        else:
            packing.pack(out, name, codes)  # its uint8 codes become UINT4/UINT2 below
    if not dense:
        producer = {o: n for n in out.graph.node for o in n.output}
        for node in out.graph.node:
            if node.op_type == "Gather" and producer.get(node.input[1], node).op_type == "Cast":
                source = producer[node.input[1]].input[0]
                init = next((i for i in out.graph.initializer if i.name == source), None)
                if init is not None and init.data_type == TensorProto.UINT8:
                    values = numpy_helper.to_array(init)
                    init.CopyFrom(helper.make_tensor(source, kind, list(values.shape), values.tolist()))
    for o in out.opset_import:
        if o.domain in ("", "ai.onnx"):
            o.version = max(o.version, opset)
    out.ir_version = max(out.ir_version, 10 if opset == 21 else 11)
    return out


def bits_rows(path: Path, bits: list[int], test) -> list[str]:
    model = onnx.load(str(_final(path)))
    signature = stored_signature(model)
    lines = []
    for b in bits:
        shared = reshared(model, b)
        want = _scores(shared, signature, test.images)
        accuracy = float((want.argmax(1) == test.labels).mean())
        forms = {"dense int8 (as `optimize` writes it)": shared,
                 "packed, byte codes (`pack`)": pack.run(shared, pack.PackConfig(), PassContext(signature, None)),
                 f"packed, {'UINT4' if b > 2 else 'UINT2'} codes": _sub_byte(shared, b, dense=False),
                 f"dense {'UINT4' if b > 2 else 'UINT2'} codes + Gather": _sub_byte(shared, b, dense=True)}
        for label, form in forms.items():
            same = np.array_equal(_scores(form, signature, test.images), want)
            lines.append(f"| {path.name} | {b} | {100 * accuracy:.2f}% | {label} | {_cell(measure(form.SerializeToString()))} "
                         f"| {'yes' if same else 'NO'} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", type=Path)
    parser.add_argument("--bits", nargs="*", type=int, default=[], choices=[4, 3, 2])
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("packing.md"))
    parser.add_argument("--note", action="append", default=[], help="a line on how the models were made")
    args = parser.parse_args()
    test = data.load("test")
    rows = [model_row(path, test) for path in args.models]
    names = " ".join(p.name for p in args.models)
    lines = ["# Weight codes the file really holds: `pack` and the compiled module's codes", "",
             f"Produced by `python bench/packing.py {names}{' --bits ' + ' '.join(map(str, args.bits)) if args.bits else ''}"
             f"{''.join(' --note ...' for _ in args.note)}` "
             "(the models: see below).", "", *machine.markdown(), "## The models", "",
             *(f"- {_about(path)}" for path in args.models), *(f"- {note}" for note in args.note), "",
             "## The ONNX file (`pack`, the last step of `max`)", "",
             "| model | accuracy | layers packed | before: raw | gzip | brotli | after: raw | gzip | brotli "
             "| onnxruntime scores bit-identical (10,000 test images) |", "|---|---:|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {Path(r['name']).name} | {100 * r['accuracy']:.2f}% | {r['packed']} | {_cell(r['onnx'][0])} "
                     f"| {_cell(r['onnx'][1])} | {'yes' if r['identical'] else 'NO'} |")
    lines += ["", "A layer is packed only where the whole file gets smaller after gzip and after brotli; the file's "
              "other bytes (graph, scales, int32 biases, the names `strip` left) are unchanged.",
              "", "## The page's model bytes (the compiled model.wasm)", "",
              "Before: the module with every weight dense, as the compiler wrote it before this change (its empty "
              "`init` export aside); after: sparse byte weights in the layout the kernels read, stored as codes that "
              "`init` decodes once when the loader instantiates the module. The loader (model.mjs) is the page's "
              "runtime, not its model bytes.", "",
              "| model | before (dense): raw | gzip | brotli | after (codes): raw | gzip | brotli "
              "| scores bit-identical to onnxruntime's (wasmtime, 10,000 test images) |",
              "|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        lines.append(f"| {Path(r['name']).name} | {_cell(r['wasm'][0])} | {_cell(r['wasm'][1])} "
                     f"| {'yes' if r['compiled_identical'] else 'NO'} |")
    lines += ["", "## Byte codes against bit-packed codes (the packed layers' steps, codes and values)", "",
              "gzip and brotli code bytes: a code split across bytes hides its statistics from them, so byte codes "
              "come out smaller after either although their raw bytes are more.", "",
              "| model | byte codes: raw | gzip | brotli | codes in ceil(log2 k) bits: raw | gzip | brotli |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        if r["streams"][0].raw:
            lines.append(f"| {Path(r['name']).name} | {_cell(r['streams'][0])} | {_cell(r['streams'][1])} |")
        else:
            lines.append(f"| {Path(r['name']).name} | no layer packed | | | | | |")
    if args.bits:
        lines += ["", "## Fewer bits per weight: what the packing gains at each width", "",
                  "Each layer shared again to 2^b - 1 non-zero values by k-means on its int8 codes, without training "
                  "(the accuracy is that of the untrained sharing: what quantization-aware fine-tuning would have to "
                  "win back).", "",
                  "| model | bits | accuracy (untrained) | form | raw | gzip | brotli | onnxruntime scores as the dense int8 file's |",
                  "|---|---:|---:|---|---:|---:|---:|---|"]
        for path in args.models:
            lines += bits_rows(path, args.bits, test)
    atomic.write_text(args.out, "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
