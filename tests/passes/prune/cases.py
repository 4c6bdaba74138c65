"""Models and contexts shared by the prune pass's tests."""

from __future__ import annotations

import contextlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from edgeshrink import detect, inference
from edgeshrink.core.model import stored_signature, with_signature
from edgeshrink.core.signature import PRESETS, Preprocess, eval_fraction
from edgeshrink.passes.base import PassContext
from tests.peers import peer_path, peer_row


def values_of(model: onnx.ModelProto) -> dict[str, np.ndarray]:
    return {init.name: numpy_helper.to_array(init) for init in model.graph.initializer}


def cnn_graph(params: dict[str, np.ndarray], softmax: bool = False) -> onnx.ModelProto:
    """conv8 -> pool -> conv16 -> pool -> fc32 -> fc10, in ONNX, with the given weights."""
    nodes = [
        helper.make_node("Conv", ["image", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("MaxPool", ["r2"], ["p2"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Reshape", ["p2", "flat"], ["f"]),
        helper.make_node("Gemm", ["f", "fc1", "fb1"], ["h"], transB=1),
        helper.make_node("Relu", ["h"], ["hr"]),
        helper.make_node("Gemm", ["hr", "fc2", "fb2"], ["logits"], transB=1),
    ]
    out = "logits"
    if softmax:
        nodes.append(helper.make_node("Softmax", ["logits"], ["probs"], axis=1))
        out = "probs"
    inits = [numpy_helper.from_array(v.astype(np.float32), k) for k, v in params.items()]
    inits.append(numpy_helper.from_array(np.array([-1, 784], np.int64), "flat"))
    graph = helper.make_graph(
        nodes, "small_cnn", [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, 28, 28])],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, ["N", 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    return with_signature(model, detect.structure(model).with_preprocess(PRESETS["unit"]))


class Progress:
    """A PassContext.track that records what it was asked to show."""

    def __init__(self):
        self.bars: list[tuple[str, int]] = []

    @contextlib.contextmanager
    def __call__(self, description: str, total: int):
        self.bars.append((description, total))
        yield lambda n: None


def context(model: onnx.ModelProto, train_split, images: int = 512, signature=None) -> PassContext:
    signature = signature or stored_signature(model) or detect.structure(model)
    return PassContext(signature=signature, train=train_split.take(images), track=Progress())


def accuracy(model: onnx.ModelProto, signature, test_split, n: int = 1000) -> float:
    test = test_split.take(n)
    return inference.accuracy(inference.session(model), signature, test.images, test.labels)


def predictions(model: onnx.ModelProto, signature, pixels: np.ndarray) -> np.ndarray:
    return inference.predict(inference.session(model), signature, pixels)


def peer(name: str) -> tuple[onnx.ModelProto, object]:
    row = peer_row(name)  # skips, saying why, without the peers folder
    model = onnx.load(str(peer_path(name)))
    given = dict(part.split("=") for part in row["preprocess"].split(";"))
    preprocess = Preprocess(eval_fraction(given["scale"]), float(given["mean"]), float(given["std"]))
    return model, detect.structure(model).with_preprocess(preprocess)
