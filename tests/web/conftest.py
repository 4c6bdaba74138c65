"""A small trained MNIST CNN, variants of it in every input/output form the page handles, and their bundle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgeshrink import inference
from edgeshrink.core import model as model_io
from edgeshrink.core.signature import PRESETS, Signature
from edgeshrink.errors import BundleError
from edgeshrink.web import Variant, bundle, find_chromium, running
from tests import nets

OPSET = 17


def _chromium_reason() -> str | None:
    try:
        find_chromium()
    except BundleError as exc:
        return str(exc)
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install 'edgeshrink[browser]')"
    return None


SKIP_REASON = _chromium_reason()


def cnn_nodes(x: str, out: str) -> list[onnx.NodeProto]:
    """The CNN's nodes from a (N,1,28,28) unit-scaled input `x` to logits `out`."""
    return [
        node("Conv", [x, "c1.w", "c1.b"], "a1", strides=[2, 2]), node("Relu", ["a1"], "r1"),
        node("Conv", ["r1", "c2.w", "c2.b"], "a2", strides=[2, 2]), node("Relu", ["a2"], "r2"),
        node("Flatten", ["r2"], "f"), node("Gemm", ["f", "fc.w", "fc.b"], out, transB=1),
    ]


def wrapped(weights, signature: Signature, input_shape, pre, post, out_type, out_shape) -> onnx.ModelProto:
    """The CNN behind `pre` nodes (model input 'x' -> 'unit', the (N,1,28,28) 0..1 image) and `post` nodes
    ('logits' -> 'y'), with `signature` stored in its metadata."""
    consts = {name: np.asarray(v) for name, v in weights.items()}
    nodes = [*pre, *cnn_nodes("unit", "logits"), *post]
    elem = {"float32": TensorProto.FLOAT, "float16": TensorProto.FLOAT16, "uint8": TensorProto.UINT8}
    inp = helper.make_tensor_value_info(signature.input_name, elem[signature.dtype], list(input_shape))
    out = helper.make_tensor_value_info("y", out_type, out_shape)
    inits = [numpy_helper.from_array(v, name) for name, v in consts.items()]
    graph = helper.make_graph(nodes, "cnn", [inp], [out], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model_io.with_signature(model, signature)


def const(name: str, value, dtype=np.float32) -> onnx.NodeProto:
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(np.asarray(value, dtype), name))


def node(op: str, inputs: list[str], output: str, **attrs) -> onnx.NodeProto:
    return helper.make_node(op, inputs, [output], **attrs)


def _sig(**fields) -> Signature:
    return Signature(**{"input_name": "x", "output_name": "y", "batch": None, "dtype": "float32", **fields})


# name -> (signature, input shape, nodes from x to 'unit', nodes from 'logits' to y, output type, output shape)
FORMS = {
    "fp32": (_sig(layout="NCHW", preprocess=PRESETS["unit"]), ["N", 1, 28, 28],
             [node("Identity", ["x"], "unit")], [node("Identity", ["logits"], "y")], TensorProto.FLOAT, ["N", 10]),
    "nhwc-raw-b4": (
        _sig(layout="NHWC", batch=4, preprocess=PRESETS["raw"], output_kind="log_probabilities"), [4, 28, 28, 1],
        [const("k", 1 / 255), node("Mul", ["x", "k"], "s"), node("Transpose", ["s"], "unit", perm=[0, 3, 1, 2])],
        [node("LogSoftmax", ["logits"], "y", axis=1)], TensorProto.FLOAT, [4, 10]),
    "n784-mnist-single": (
        _sig(layout="N784", batch=0, preprocess=PRESETS["mnist"], output_kind="probabilities"), [784],
        [const("sd", 0.3081), const("mu", 0.1307), const("shape", [1, 1, 28, 28], np.int64),
         node("Mul", ["x", "sd"], "xs"), node("Add", ["xs", "mu"], "xu"), node("Reshape", ["xu", "shape"], "unit")],
        [const("ten", [10], np.int64), node("Softmax", ["logits"], "sm", axis=1), node("Reshape", ["sm", "ten"], "y")],
        TensorProto.FLOAT, [10]),
    "fp16-nchw3-sym": (
        _sig(layout="NCHW3", dtype="float16", preprocess=PRESETS["symmetric"]), ["N", 3, 28, 28],
        [const("s0", [0], np.int64), const("s1", [1], np.int64), const("half", 0.5),
         node("Cast", ["x"], "xf", to=TensorProto.FLOAT), node("Slice", ["xf", "s0", "s1", "s1"], "m"),
         node("Mul", ["m", "half"], "mh"), node("Add", ["mh", "half"], "unit")],
        [node("Identity", ["logits"], "y")], TensorProto.FLOAT, ["N", 10]),
    "u8-nhw-argmax": (
        _sig(layout="NHW", dtype="uint8", preprocess=PRESETS["raw"], output_kind="class_index"), ["N", 28, 28],
        [const("k", 1 / 255), const("ax", [1], np.int64), node("Cast", ["x"], "xf", to=TensorProto.FLOAT),
         node("Mul", ["xf", "k"], "s"), node("Unsqueeze", ["s", "ax"], "unit")],
        [node("ArgMax", ["logits"], "y", axis=1, keepdims=0)], TensorProto.INT64, ["N"]),
}


def form_model(weights, name: str) -> tuple[onnx.ModelProto, Signature]:
    signature, shape, pre, post, out_type, out_shape = FORMS[name]
    return wrapped(weights, signature, shape, pre, post, out_type, out_shape), signature


@pytest.fixture(scope="session")
def cnn_weights(mnist_dir) -> dict[str, np.ndarray]:
    """conv5x5/2(8)-conv5x5/2(16)-fc(10) on 0..1 pixels, about 97% (tests/nets.py)."""
    return nets.stride_cnn()


@pytest.fixture(scope="session")
def web_variants(cnn_weights, test_split, tmp_path_factory) -> list[Variant]:
    """The CNN in every form of FORMS, saved, with accuracy on 1000 test digits."""
    folder = tmp_path_factory.mktemp("web-models")
    variants = []
    for name in FORMS:
        model, signature = form_model(cnn_weights, name)
        path = model_io.save(model, folder / f"{name}.onnx")
        session = inference.session(model, threads=1)
        accuracy = inference.accuracy(session, signature, test_split.images[:1000], test_split.labels[:1000])
        total, nonzero = model_io.count_params(model)
        description = f"{signature.layout} {signature.dtype}, batch {signature.batch}, {signature.output_kind}"
        variants.append(Variant(name, path, signature, accuracy, total, nonzero, None, description))
    return variants


@pytest.fixture(scope="session")
def dist(web_variants, tmp_path_factory) -> Path:
    """Every form on onnxruntime-web (the reference runtime: it runs them all)."""
    return bundle(web_variants, tmp_path_factory.mktemp("bundle") / "dist", runtime="ort").out_dir


@pytest.fixture(scope="session")
def site(dist):
    with running(dist) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium for one test module (closed after it, so other modules may launch their own)."""
    if SKIP_REASON:
        pytest.skip(f"browser tests need Chromium: {SKIP_REASON}")
    from edgeshrink.web.check.browser import chromium

    with chromium() as launched:
        yield launched
