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
