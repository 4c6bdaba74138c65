"""The ONNX->torch interpreter against onnxruntime: small graphs op by op, then the peers' models."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from edgeshrink import detect, inference
from edgeshrink.errors import ModelError
from edgeshrink.finetune.torchgraph import to_torch, unsupported, write_back
from tests.peers import peer_names, peer_path

RNG = np.random.default_rng(0)


def _const(name: str, array) -> onnx.TensorProto:
    array = np.asarray(array)
    return numpy_helper.from_array(array.astype(np.float32) if array.dtype == np.float64 else array, name)


def _random(name: str, *shape: int) -> onnx.TensorProto:
    return _const(name, RNG.normal(0, 1, shape))


def _graph(nodes, x_shape, inits, opset=13, outputs=("y",), ints=()) -> tuple[onnx.ModelProto, np.ndarray]:
    """A model over one float input `x`, and a random input for it."""
    graph = helper.make_graph(
        nodes, "case", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x_shape))],
        [helper.make_tensor_value_info(name, TensorProto.INT64 if name in ints else TensorProto.FLOAT, None)
         for name in outputs], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)
    return model, RNG.normal(0, 1, x_shape).astype(np.float32)


def _convs():
    return _graph([
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], auto_pad="SAME_UPPER", strides=[2, 2]),
        helper.make_node("Conv", ["c1", "w2"], ["c2"], auto_pad="SAME_LOWER", kernel_shape=[2, 2]),
        helper.make_node("Conv", ["c2", "w3"], ["c3"], group=2, pads=[0, 1, 1, 0], dilations=[2, 2], strides=[1, 2]),
        helper.make_node("Conv", ["c3", "w4"], ["y"], auto_pad="VALID"),
    ], (2, 3, 11, 11), [_random("w1", 4, 3, 3, 3), _random("b1", 4), _random("w2", 4, 4, 2, 2),
                        _random("w3", 6, 2, 3, 3), _random("w4", 5, 6, 1, 2)])


def _pools():
    return _graph([
        helper.make_node("MaxPool", ["x"], ["p1"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1),
        helper.make_node("AveragePool", ["p1"], ["p2"], kernel_shape=[2, 2], pads=[1, 0, 0, 1]),
        helper.make_node("AveragePool", ["p2"], ["p3"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=1),
        helper.make_node("MaxPool", ["p3"], ["p4"], kernel_shape=[2, 2], auto_pad="SAME_UPPER"),
        helper.make_node("GlobalAveragePool", ["p4"], ["y"]),
    ], (2, 3, 12, 12), [])


def _norms():
    return _graph([
        helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["n"], epsilon=1e-3),
        helper.make_node("Clip", ["n", "lo", "hi"], ["c"]),
        helper.make_node("Pad", ["c", "pads", "fill"], ["p"]),
        helper.make_node("Pad", ["p", "pads"], ["r"], mode="reflect"),
        helper.make_node("LeakyRelu", ["r"], ["l"], alpha=0.2),
        helper.make_node("Dropout", ["l"], ["d"]),
        helper.make_node("Identity", ["d"], ["y"]),
    ], (2, 3, 5, 5), [_random("s", 3), _random("b", 3), _random("m", 3), _const("v", RNG.uniform(0.5, 2, 3)),
                      _const("lo", np.float32(-0.5)), _const("hi", np.float32(0.7)),
                      _const("pads", np.array([0, 0, 1, 2, 0, 0, 2, 1])), _const("fill", np.float32(0.5))])


def _dense():
    return _graph([
        helper.make_node("Gemm", ["x", "w", "c"], ["g"], transA=1, transB=1, alpha=0.5, beta=2.0),
        helper.make_node("MatMul", ["g", "m"], ["mm"]),
        helper.make_node("Sub", ["mm", "k"], ["s"]),
        helper.make_node("Mul", ["s", "k"], ["t"]),
        helper.make_node("Div", ["t", "k"], ["u"]),
        helper.make_node("Tanh", ["u"], ["h"]),
        helper.make_node("Sigmoid", ["h"], ["z"]),
        helper.make_node("Add", ["z", "k"], ["y"]),
    ], (6, 4), [_random("w", 5, 6), _random("c", 5), _random("m", 5, 3), _const("k", RNG.uniform(1, 2, (1, 3)))])


def _softmax(opset: int):
    return _graph([
        helper.make_node("Softmax", ["x"], ["y"], axis=1),
        helper.make_node("LogSoftmax", ["x"], ["z"]),
    ], (2, 3, 4), [], opset=opset, outputs=("y", "z"))


def _shapes_attr():
    """Opset 11: axes as attributes, and PyTorch 1.x's Shape->Gather->Concat flatten."""
    return _graph([
        helper.make_node("Unsqueeze", ["x"], ["u"], axes=[0, 3]),
        helper.make_node("Squeeze", ["u"], ["s"], axes=[0]),
        helper.make_node("Transpose", ["s"], ["t"], perm=[0, 2, 1, 3]),
        helper.make_node("Flatten", ["t"], ["f"], axis=2),
        helper.make_node("Shape", ["x"], ["shape"]),
        helper.make_node("Constant", [], ["zero"], value=_const("zero", np.array(0))),
        helper.make_node("Gather", ["shape", "zero"], ["n"]),
        helper.make_node("Unsqueeze", ["n"], ["n1"], axes=[0]),
        helper.make_node("Constant", [], ["rest"], value_ints=[-1]),
        helper.make_node("Concat", ["n1", "rest"], ["target"], axis=0),
        helper.make_node("Reshape", ["f", "target"], ["r"]),
        helper.make_node("Reshape", ["r", "zero_keep"], ["k"]),
        helper.make_node("Cast", ["k"], ["c"], to=TensorProto.DOUBLE),
        helper.make_node("Cast", ["c"], ["y"], to=TensorProto.FLOAT),
        helper.make_node("ArgMax", ["y"], ["a"], axis=1, keepdims=0),
    ], (3, 4, 5), [_const("zero_keep", np.array([0, 4, -1]))], opset=11, outputs=("y", "a"), ints=("a",))


def _shapes_input():
    """Opset 15: axes as inputs, Shape with start/end."""
    return _graph([
        helper.make_node("Unsqueeze", ["x", "ax"], ["u"]),
        helper.make_node("Squeeze", ["u", "ax"], ["s"]),
        helper.make_node("Squeeze", ["s"], ["all"]),
        helper.make_node("Shape", ["all"], ["tail"], start=1),
        helper.make_node("Concat", ["minus", "tail"], ["target"], axis=0),
        helper.make_node("Reshape", ["all", "target"], ["r"]),
        helper.make_node("Concat", ["r", "r"], ["y"], axis=1),
    ], (3, 1, 4, 5), [_const("ax", np.array([1, -1])), _const("minus", np.array([-1]))], opset=15)


CASES = {"convs": _convs, "pools": _pools, "norms": _norms, "dense": _dense, "softmax_opset11": lambda: _softmax(11),
         "softmax_opset13": lambda: _softmax(13), "shapes_attr": _shapes_attr, "shapes_input": _shapes_input}


def _ort(model: onnx.ModelProto, x: np.ndarray) -> list[np.ndarray]:
    return inference.session(model).run(None, {"x": x})


@pytest.mark.parametrize("case", CASES)
def test_each_operator_matches_onnxruntime(case):
    model, x = CASES[case]()
    expected = _ort(model, x)
    with torch.no_grad():
        got = to_torch(model)(torch.from_numpy(x))
    assert len(got) == len(expected)
    for mine, reference in zip(got, expected):
        assert mine.shape == reference.shape
        np.testing.assert_allclose(mine.numpy(), reference, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", peer_names())
def test_peer_models_match_onnxruntime(name, train_split):
    model = onnx.load(str(peer_path(name)))
    signature = detect.structure(model)
    pixels = train_split.images[:signature.batch or 4]
    x = signature.feed(pixels)
    expected = inference.session(model).run(None, {signature.input_name: x})
    with torch.no_grad():
        got = to_torch(model)(torch.from_numpy(x))
    for mine, reference in zip(got, expected, strict=True):
        np.testing.assert_allclose(mine.numpy(), reference, rtol=1e-4, atol=1e-4)


def test_float_initializers_are_parameters_and_others_constants():
    model, _ = _shapes_input()
    module = to_torch(model)
    assert module.names == []  # every initializer of this graph is an integer shape or axes
    model, _ = _dense()
    module = to_torch(model)
    assert module.names == ["w", "c", "m", "k"]
    assert isinstance(module.param("w"), torch.nn.Parameter)


def test_write_back_copies_trained_values_with_names_dtypes_and_shapes():
    model, x = _dense()
    module = to_torch(model)
    with torch.no_grad():
        module.param("c").add_(1.0)
    updated = write_back(model, module)
    before = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    after = {i.name: numpy_helper.to_array(i) for i in updated.graph.initializer}
    assert list(before) == list(after)
    np.testing.assert_allclose(after["c"], before["c"] + 1.0)
    assert all(after[n].dtype == before[n].dtype and after[n].shape == before[n].shape for n in before)
    np.testing.assert_allclose(_ort(updated, x)[0], module(torch.from_numpy(x))[0].detach().numpy(), rtol=1e-4)
    assert not np.allclose(_ort(updated, x)[0], _ort(model, x)[0])  # the input model is untouched


def test_fixed_batch_reshape_follows_the_batch_fed():
    flat = helper.make_node("Reshape", ["x", "shape"], ["f"])
    model, _ = _graph([flat, helper.make_node("MatMul", ["f", "w"], ["y"])], (2, 3, 4),
                      [_const("shape", np.array([2, -1])), _random("w", 12, 5)])
    x = RNG.normal(0, 1, (6, 3, 4)).astype(np.float32)
    with torch.no_grad():
        free = to_torch(model, batch=2)(torch.from_numpy(x))[0]
    expected = np.concatenate([_ort(model, x[i:i + 2])[0] for i in range(0, 6, 2)])
    np.testing.assert_allclose(free.numpy(), expected, rtol=1e-4, atol=1e-5)
    with pytest.raises(RuntimeError):
        to_torch(model)(torch.from_numpy(x))  # without `batch` the exported shape is kept


def test_fixed_batch_reshape_of_one_images_features_keeps_its_shape():
    # a batch-1 model fused by onnxruntime: features flattened to 1-D, then [1, n] for a Gemm
    nodes = [helper.make_node("Reshape", ["x", "flat"], ["f"]), helper.make_node("Reshape", ["f", "row"], ["r"]),
             helper.make_node("Gemm", ["r", "w"], ["y"])]
    model, x = _graph(nodes, (1, 3, 4), [_const("flat", np.array([12])), _const("row", np.array([1, 12])),
                                         _random("w", 12, 5)])
    with torch.no_grad():
        got = to_torch(model, batch=1)(torch.from_numpy(x))[0]
    np.testing.assert_allclose(got.numpy(), _ort(model, x)[0], rtol=1e-4, atol=1e-5)


def test_unsupported_operators_are_named():
    model, _ = _graph([helper.make_node("Erf", ["x"], ["e"]), helper.make_node("Relu", ["e"], ["y"])], (2, 3), [])
    assert unsupported(model) == ["Erf"]
    with pytest.raises(ModelError, match="does not support Erf"):
        to_torch(model)
