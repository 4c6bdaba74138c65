"""The strip pass: short names, no doc strings or extra metadata, the same answers and interface."""

from __future__ import annotations

import numpy as np
import onnx

from edgeshrink.core.signature import METADATA_KEY
from edgeshrink.passes import strip
from edgeshrink.passes.base import PassContext
from tests.passes.outputs import scores


def test_strip_keeps_answers_interface_and_signature(quantized_cnn, bn_cnn, train_split, test_split):
    _, signature = bn_cnn
    model = onnx.ModelProto()
    model.CopyFrom(quantized_cnn)
    model.metadata_props.add(key="training_log", value="x" * 500)
    model.doc_string = "made by a test"
    out = strip.run(model, strip.StripConfig(), PassContext(signature, train_split))
    onnx.checker.check_model(out, full_check=True)
    assert [i.name for i in out.graph.input] == [i.name for i in model.graph.input]
    assert [o.name for o in out.graph.output] == [o.name for o in model.graph.output]
    assert [p.key for p in out.metadata_props] == [METADATA_KEY]
    assert all(len(i.name) <= 2 for i in out.graph.initializer) and not out.doc_string
    assert out.ByteSize() < model.ByteSize() - 500
    images = test_split.images[:200]
    np.testing.assert_array_equal(scores(out, signature, images), scores(model, signature, images))


def test_strip_drops_attributes_at_their_default_and_unused_opset_imports(quantized_cnn, bn_cnn, train_split):
    _, signature = bn_cnn
    model = onnx.ModelProto()
    model.CopyFrom(quantized_cnn)
    model.opset_import.add(domain="ai.onnx.ml", version=3)  # a domain no node uses, as onnxsim's output carries
    convs = [n for n in model.graph.node if n.op_type in ("Conv", "QLinearConv")]
    assert any(a.name in ("strides", "dilations", "group") for n in convs for a in n.attribute)  # torch writes them
    out = strip.run(model, strip.StripConfig(), PassContext(signature, train_split))
    assert {o.domain for o in out.opset_import} <= {"", "ai.onnx"} | {n.domain for n in out.graph.node}
    for node in (n for n in out.graph.node if n.op_type in ("Conv", "QLinearConv", "MaxPool")):
        values = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        assert "dilations" not in values and "group" not in values and "kernel_shape" in values
        assert values.get("strides", [2]) != [1, 1] and values.get("pads", [1]) != [0, 0, 0, 0]
    kept = strip.run(model, strip.StripConfig(defaults=False), PassContext(signature, train_split))
    assert out.ByteSize() < kept.ByteSize()


def test_strip_keeps_attributes_that_are_not_defaults():
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], strides=[2, 2], pads=[1, 1, 1, 1], dilations=[1, 1], group=1)],
        "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 28, 28])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [helper.make_tensor("w", TensorProto.FLOAT, [2, 1, 3, 3], np.ones(18, np.float32))])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    out = strip.run(model, strip.StripConfig(), PassContext(None, None))
    assert {a.name: helper.get_attribute_value(a) for a in out.graph.node[0].attribute} == {
        "strides": [2, 2], "pads": [1, 1, 1, 1]}
