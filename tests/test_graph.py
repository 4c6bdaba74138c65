"""The shared graph index: lookups, constants, weight and score layers, output kinds, legacy inputs."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgeshrink.core.graph import Graph, attributes, constant_value, without_initializer_inputs
from tests.models import linear_classifier


def _mlp(final: str | None = None, ir_version: int = 8, weights_as_inputs: bool = False) -> onnx.ModelProto:
    """x -> Gemm(w1) -> Relu -> MatMul(Transpose(w2)) -> Add(b2) [-> final op], plus an unread initializer."""
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.normal(size=(16, 784)).astype(np.float32), "w1"),
             numpy_helper.from_array(rng.normal(size=(10, 16)).astype(np.float32), "w2"),
             numpy_helper.from_array(np.zeros(10, np.float32), "b2"),
             numpy_helper.from_array(np.ones(3, np.float32), "unread")]
    nodes = [helper.make_node("Gemm", ["x", "w1"], ["h"], transB=1, name="fc1"),
             helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("Transpose", ["w2"], ["w2t"]),
             helper.make_node("MatMul", ["r", "w2t"], ["m"], name="fc2"),
             helper.make_node("Add", ["m", "b2"], ["logits"])]
    out = "logits"
    if final:
        nodes += [helper.make_node(final, ["logits"], ["p"]), helper.make_node("Identity", ["p"], ["out"])]
        out = "out"
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 784])]
    if weights_as_inputs:
        inputs += [helper.make_tensor_value_info(i.name, i.data_type, list(i.dims)) for i in inits]
    graph = helper.make_graph(nodes, "mlp", inputs, [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=ir_version)


def test_producers_consumers_and_sole_readers():
    g = Graph(_mlp())
    assert g.producer["h"].name == "fc1" and g.producer.get("x") is None
    assert [(n.op_type, i) for n, i in g.consumers["r"]] == [("MatMul", 0)]
    assert g.sole_reader("h").op_type == "Relu"
    assert g.sole_reader("logits") is None  # a graph output is read by the caller too
    assert g.node("fc2").op_type == "MatMul" and g.node("nothing") is None


def test_constant_values_follow_views_and_roots():
    g = Graph(_mlp())
    assert g.value("w2t").shape == (16, 10) and g.value("r") is None
    assert g.root("w2t") == "w2" and g.root("r") is None
    node = helper.make_node("Constant", [], ["c"], value_ints=[1, 2])
    np.testing.assert_array_equal(constant_value(node), np.array([1, 2], np.int64))
    assert attributes(helper.make_node("Pad", ["x"], ["y"], mode="reflect")) == {"mode": "reflect"}


@pytest.mark.parametrize("final, kind", [(None, "logits"), ("Softmax", "probabilities"),
                                         ("LogSoftmax", "log_probabilities"), ("ArgMax", "class_index")])
def test_score_layer_and_output_kind(final, kind):
    model = _mlp(final)
    g = Graph(model)
    output = model.graph.output[0].name
    assert [n.name for n in g.weight_layers()] == ["fc1", "fc2"]
    assert [n.name for n in g.score_layers(output)] == ["fc2"]
    assert g.output_kind(output) == kind
    assert g.final_node(output).op_type == (final or "Add")


def test_unread_initializers_are_dropped_with_their_input_entries():
    model = _mlp(ir_version=3, weights_as_inputs=True)
    Graph(model).drop_unread_initializers()
    assert [i.name for i in model.graph.initializer] == ["w1", "w2", "b2"]
    assert [i.name for i in model.graph.input] == ["x", "w1", "w2", "b2"]


def test_initializers_listed_as_inputs_are_dropped_from_a_copy():
    model = _mlp(ir_version=3, weights_as_inputs=True)
    out = without_initializer_inputs(model)
    assert [i.name for i in out.graph.input] == ["x"] and out.ir_version == 4
    assert len(model.graph.input) == 5  # the caller's model is untouched
    plain = linear_classifier()
    assert without_initializer_inputs(plain).SerializeToString() == plain.SerializeToString()
