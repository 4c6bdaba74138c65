"""Which channels structured pruning keeps: exactly the strongest by the configured norm, read along each
layer's output axis (Conv and Gemm transB=1: axis 0; Gemm transB=0 and MatMul: axis 1), and the model keeps
computing what it computed with the dropped channels silenced."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgeshrink import inference
from edgeshrink.passes.prune import structured
from tests.passes.prune.cases import values_of

# Six channels whose L1 and L2 rankings differ: "spread" rows hold many small weights (large L1, small L2),
# "spike" rows one large weight (equal L1 and L2). Keeping 3: L1 keeps {0, 2, 3}, L2 keeps {1, 3, 5}.
SPREAD = {0: 0.1, 2: 0.08, 4: 0.01}  # every weight of the row, alternating in sign
SPIKE = {1: 0.05, 3: 0.06, 5: 0.02}  # one weight of n * this
KEPT = {"l1": [0, 2, 3], "l2": [1, 3, 5]}


def _rows(n: int) -> np.ndarray:
    """(6, n): channel c's weights in row c."""
    rows = np.zeros((6, n))
    signs = np.where(np.arange(n) % 2, -1.0, 1.0)
    for c, value in SPREAD.items():
        rows[c] = value * signs
    for c, value in SPIKE.items():
        rows[c, c % n] = -value * n
    return rows


def _model(layer: str) -> tuple[onnx.ModelProto, str]:
    """image -> hidden layer of 6 channels (the layer under test) -> Relu -> 10 logits; returns the weight name."""
    rng = np.random.default_rng(0)
    nodes, params = [], {"bias": rng.normal(0, 0.1, 6)}
    if layer == "conv":
        params["w"] = _rows(49).reshape(6, 1, 7, 7)  # n > 25: a spike's L2 beats every spread row's
        nodes += [helper.make_node("Conv", ["image", "w", "bias"], ["h"], pads=[1, 1, 1, 1], strides=[4, 4]),
                  helper.make_node("Relu", ["h"], ["r"]), helper.make_node("Flatten", ["r"], ["f"])]
        features = 6 * 6 * 6
    else:
        rows = _rows(784) * 0.05
        params["w"] = rows if layer == "gemm_transB" else rows.T  # Gemm transB=0 and MatMul: (784, 6)
        nodes.append(helper.make_node("Flatten", ["image"], ["x"]))
        if layer == "matmul":
            nodes += [helper.make_node("MatMul", ["x", "w"], ["m"]), helper.make_node("Add", ["m", "bias"], ["h"])]
        else:
            nodes.append(helper.make_node("Gemm", ["x", "w", "bias"], ["h"], transB=int(layer == "gemm_transB")))
        nodes += [helper.make_node("Relu", ["h"], ["f"])]
        features = 6
    params["out"] = rng.normal(0, 0.3, (features, 10))
    nodes.append(helper.make_node("Gemm", ["f", "out"], ["logits"]))
    inits = [numpy_helper.from_array(v.astype(np.float32), k) for k, v in params.items()]
    graph = helper.make_graph(nodes, layer, [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, 28, 28])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8), "w"


def _silenced(model: onnx.ModelProto, layer: str, kept: list[int]) -> onnx.ModelProto:
    """The unpruned model with every channel not in `kept` zeroed (weights and bias): it outputs relu(0) = 0."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    values = values_of(model)
    dropped = [c for c in range(6) if c not in kept]
    w, bias = values["w"].copy(), values["bias"].copy()
    axis = 1 if layer in ("gemm", "matmul") else 0
    np.moveaxis(w, axis, 0)[dropped] = 0
    bias[dropped] = 0
    for init in out.graph.initializer:
        if init.name in ("w", "bias"):
            init.CopyFrom(numpy_helper.from_array({"w": w, "bias": bias}[init.name], init.name))
    return out


@pytest.mark.parametrize("norm", ["l1", "l2"])
@pytest.mark.parametrize("layer, axis", [("conv", 0), ("gemm_transB", 0), ("gemm", 1), ("matmul", 1)])
def test_the_strongest_channels_by_the_norm_are_kept(layer, axis, norm, test_split):
    model, weight = _model(layer)
    hidden = model.graph.node[0 if layer == "conv" else 1].output[0]
    assert structured.counts(model, "logits") == {hidden: 6}
    surgery = structured.prune(model, {hidden: 3}, "logits", norm)
    assert len(surgery.pruned) == 1 and not surgery.blocked
    before, after = values_of(model), values_of(surgery.model)
    kept = KEPT[norm]
    np.testing.assert_array_equal(after[weight], np.take(before[weight], kept, axis=axis))
    np.testing.assert_array_equal(after["bias"], before["bias"][kept])
    x = test_split.images[:64].astype(np.float32)[:, None] / 255
    got = inference.session(surgery.model).run(None, {"image": x})[0]
    expected = inference.session(_silenced(model, layer, kept)).run(None, {"image": x})[0]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_a_target_at_or_above_the_size_leaves_the_layer_untouched():
    model, _ = _model("gemm")
    surgery = structured.prune(model, {"h": 6}, "logits")
    assert surgery.untouched == ["h"] and not surgery.pruned
    assert values_of(surgery.model)["w"].shape == (784, 6)


def test_a_target_of_zero_keeps_one_channel():
    model, _ = _model("gemm")
    surgery = structured.prune(model, {"h": 0}, "logits", "l2")
    assert values_of(surgery.model)["w"].shape == (784, 1)
    np.testing.assert_array_equal(values_of(surgery.model)["w"][:, 0], values_of(model)["w"][:, 3])


def test_a_gemm_reading_its_input_transposed_is_left_whole_with_the_reason():
    model, _ = _model("gemm")
    gemm = model.graph.node[1]
    assert gemm.op_type == "Gemm"
    model.graph.node.insert(1, helper.make_node("Transpose", ["x"], ["xt"], perm=[1, 0]))
    gemm.input[0] = "xt"
    gemm.attribute.append(helper.make_attribute("transA", 1))
    onnx.checker.check_model(model)
    surgery = structured.prune(model, {"h": 3}, "logits")
    assert not surgery.pruned and surgery.blocked == ["h (Gemm): Gemm with transA is left whole"]


def _gemm_layer(norms, bias: np.ndarray | None, bias_from_data: bool = False) -> onnx.ModelProto:
    """image -> Flatten -> Gemm transB=1 with one neuron per entry of `norms` (neuron c: one weight of
    norms[c], so its L1 and L2 norms are both norms[c]) and the given bias -> Relu -> Gemm to 10 logits.
    `bias_from_data`: the bias is computed from the image (a Relu of a ReduceMean), not a constant."""
    k = len(norms)
    w = np.zeros((k, 784), np.float32)
    w[np.arange(k), np.arange(k) * 7] = norms
    inits = {"w": w, "out": np.random.default_rng(1).normal(0, 0.3, (k, 10)).astype(np.float32)}
    nodes = [helper.make_node("Flatten", ["image"], ["x"])]
    gemm_in = ["x", "w"]
    if bias_from_data:
        nodes += [helper.make_node("ReduceMean", ["x"], ["mean"], axes=[1], keepdims=1)]
        gemm_in.append("mean")
    elif bias is not None:
        inits["bias"] = bias.astype(np.float32)
        gemm_in.append("bias")
    nodes += [helper.make_node("Gemm", gemm_in, ["h"], transB=1), helper.make_node("Relu", ["h"], ["f"]),
              helper.make_node("Gemm", ["f", "out"], ["logits"])]
    graph = helper.make_graph(nodes, "gemm", [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, 28, 28])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])],
                              [numpy_helper.from_array(v, n) for n, v in inits.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


@pytest.mark.parametrize("norm", ["l1", "l2"])
def test_ties_go_to_the_lower_channel_index(norm):
    """Norms 1 1 2 2 0 2 1 1, keeping 4: the three 2s, then the first of the four tied 1s (channel 0), on
    every machine (an unstable sort may pick any of them)."""
    model = _gemm_layer([1, 1, 2, 2, 0, 2, 1, 1], np.arange(8.0))
    surgery = structured.prune(model, {"h": 4}, "logits", norm)
    assert surgery.pruned == ["h"]
    np.testing.assert_array_equal(values_of(surgery.model)["w"], values_of(model)["w"][[0, 2, 3, 5]])
    np.testing.assert_array_equal(values_of(surgery.model)["bias"], [0, 2, 3, 5])


def test_a_bias_of_one_row_is_cut_along_its_last_axis():
    model = _gemm_layer([3, 1, 2, 0], np.array([[10.0, 11.0, 12.0, 13.0]]))
    onnx.checker.check_model(model, full_check=True)
    surgery = structured.prune(model, {"h": 2}, "logits")
    assert surgery.pruned == ["h"] and not surgery.blocked
    np.testing.assert_array_equal(values_of(surgery.model)["bias"], [[10.0, 12.0]])


def test_a_bias_broadcast_from_one_value_is_kept_whole(test_split):
    model = _gemm_layer([3, 1, 2, 0], np.array([0.25]))
    surgery = structured.prune(model, {"h": 2}, "logits")
    assert surgery.pruned == ["h"] and not surgery.blocked
    after = values_of(surgery.model)
    np.testing.assert_array_equal(after["bias"], [0.25])
    assert after["w"].shape == (2, 784)
    x = test_split.images[:16].astype(np.float32)[:, None] / 255
    assert inference.session(surgery.model).run(None, {"image": x})[0].shape == (16, 10)


def test_a_bias_that_is_not_a_constant_or_does_not_match_leaves_the_layer_whole_with_the_reason():
    computed = structured.prune(_gemm_layer([3, 1, 2, 0], None, bias_from_data=True), {"h": 2}, "logits")
    assert not computed.pruned and computed.blocked == ["h (Gemm): its bias is not a constant"]
    # three values for four neurons: no valid model has it, and pruning names it rather than guessing
    odd = structured.prune(_gemm_layer([3, 1, 2, 0], np.array([1.0, 2.0, 3.0])), {"h": 2}, "logits")
    assert not odd.pruned and odd.blocked == ["h (Gemm): its bias has shape [3]"]
    two = structured.prune(_gemm_layer([3, 1, 2, 0], np.array([1.0, 2.0])), {"h": 2}, "logits")
    assert not two.pruned and two.blocked == ["h (Gemm): its bias has shape [2]"]


def _two_layers(first_bias_from_data: bool = False, trans_b_attr: bool = True) -> onnx.ModelProto:
    """image -> Gemm h1 (8 neurons, norms 8..1) -> Relu -> Gemm h2 (6 neurons, norms 1..6) -> Relu -> logits.
    Without `trans_b_attr` the hidden layers carry no transB attribute (ONNX's default, 0) and store
    their weights as (inputs, neurons)."""
    rng = np.random.default_rng(2)
    w1 = np.sign(rng.normal(0, 1, (8, 784))) * 0.01 * np.arange(8, 0, -1)[:, None]  # |row| = 784 * norm / 100
    w2 = np.sign(rng.normal(0, 1, (6, 8))) * 0.5 * np.arange(1, 7)[:, None]
    inits = {"w1": w1 if trans_b_attr else w1.T, "w2": w2 if trans_b_attr else w2.T,
             "b2": rng.normal(0, 0.1, 6), "out": rng.normal(0, 0.3, (6, 10))}
    nodes = [helper.make_node("Flatten", ["image"], ["x"])]
    if first_bias_from_data:
        nodes.append(helper.make_node("ReduceMean", ["x"], ["b1"], axes=[1], keepdims=1))
    else:
        inits["b1"] = rng.normal(0, 0.1, 8)
    kw = {"transB": 1} if trans_b_attr else {}
    nodes += [helper.make_node("Gemm", ["x", "w1", "b1"], ["h1"], **kw), helper.make_node("Relu", ["h1"], ["r1"]),
              helper.make_node("Gemm", ["r1", "w2", "b2"], ["h2"], **kw), helper.make_node("Relu", ["h2"], ["r2"]),
              helper.make_node("Gemm", ["r2", "out"], ["logits"])]
    graph = helper.make_graph(nodes, "two", [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, 28, 28])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])],
                              [numpy_helper.from_array(v.astype(np.float32), n) for n, v in inits.items()])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


@pytest.mark.parametrize("trans_b_attr", [True, False])
def test_every_targeted_layer_is_cut_and_an_untargeted_one_keeps_its_size(trans_b_attr):
    model = _two_layers(trans_b_attr=trans_b_attr)
    axis = 0 if trans_b_attr else 1  # no transB attribute: ONNX's default 0, one neuron per column
    both = structured.prune(model, {"h1": 4, "h2": 3}, "logits")
    assert both.pruned == ["h1", "h2"] and not both.blocked and not both.untouched
    before, after = values_of(model), values_of(both.model)
    np.testing.assert_array_equal(after["w1"], np.take(before["w1"], [0, 1, 2, 3], axis=axis))
    # h2 keeps its 3 strongest neurons (3, 4, 5) and reads only h1's kept ones
    np.testing.assert_array_equal(after["w2"], np.take(np.take(before["w2"], [3, 4, 5], axis=axis), [0, 1, 2, 3],
                                                       axis=1 - axis))
    np.testing.assert_array_equal(after["out"], before["out"][[3, 4, 5]])
    only = structured.prune(model, {"h2": 3}, "logits")
    assert only.pruned == ["h2"] and only.untouched == ["h1"]
    assert values_of(only.model)["w1"].shape == before["w1"].shape


def test_a_blocked_layer_does_not_stop_the_layers_after_it():
    model = _two_layers(first_bias_from_data=True)
    surgery = structured.prune(model, {"h1": 4, "h2": 3}, "logits")
    assert surgery.blocked == ["h1 (Gemm): its bias is not a constant"] and surgery.pruned == ["h2"]
    assert values_of(surgery.model)["w2"].shape == (3, 8)


def test_the_default_norm_is_l1():
    model, _ = _model("matmul")
    surgery = structured.prune(model, {"m": 3}, "logits")  # the MatMul's output; its bias is a separate Add
    np.testing.assert_array_equal(values_of(surgery.model)["w"], values_of(model)["w"][:, KEPT["l1"]])


def test_a_matmul_with_a_batched_weight_is_left_whole_with_the_reason():
    w = numpy_helper.from_array(np.ones((1, 784, 4), np.float32), "w")
    out = numpy_helper.from_array(np.ones((4, 10), np.float32), "out")
    nodes = [helper.make_node("Flatten", ["image"], ["x"]), helper.make_node("MatMul", ["x", "w"], ["h"]),
             helper.make_node("Relu", ["h"], ["r"]), helper.make_node("MatMul", ["r", "out"], ["logits"])]
    graph = helper.make_graph(nodes, "batched", [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, 28, 28])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, "N", 10])], [w, out])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    onnx.checker.check_model(model)
    surgery = structured.prune(model, {"h": 2}, "logits")
    assert not surgery.pruned and surgery.blocked == ["h (MatMul): MatMul with a batched weight is left whole"]


def test_a_layer_listed_after_the_class_scores_is_still_considered():
    """The class-score Gemm comes before a feature head in the node list: the head is still looked at (and
    left whole, since its output is the model's second output), and the shared layer is cut."""
    rng = np.random.default_rng(3)
    inits = {"w1": np.sign(rng.normal(0, 1, (8, 784))) * 0.01 * np.arange(8, 0, -1)[:, None],
             "out": rng.normal(0, 0.3, (8, 10)), "w2": rng.normal(0, 0.3, (6, 8))}
    nodes = [helper.make_node("Flatten", ["image"], ["x"]), helper.make_node("Gemm", ["x", "w1"], ["h1"], transB=1),
             helper.make_node("Relu", ["h1"], ["r1"]), helper.make_node("Gemm", ["r1", "out"], ["logits"]),
             helper.make_node("Gemm", ["r1", "w2"], ["feat"], transB=1)]
    image = helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, 28, 28])
    outs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10]),
            helper.make_tensor_value_info("feat", TensorProto.FLOAT, ["N", 6])]
    graph = helper.make_graph(nodes, "heads", [image], outs,
                              [numpy_helper.from_array(v.astype(np.float32), n) for n, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    surgery = structured.prune(model, {"h1": 4, "feat": 3}, "logits")
    assert surgery.pruned == ["h1"]
    assert surgery.blocked == ["feat (Gemm): its channels reach the graph output 'feat'"]
    after = values_of(surgery.model)
    assert after["w1"].shape == (4, 784) and after["out"].shape == (4, 10) and after["w2"].shape == (6, 4)
