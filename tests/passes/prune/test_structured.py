"""Structured pruning: channels cut by graph surgery, layers left whole with a reason, the peers."""

from __future__ import annotations

import dataclasses

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgeshrink import detect, inference
from edgeshrink.core.model import count_params, stored_signature
from edgeshrink.core.signature import PRESETS
from edgeshrink.errors import PassError
from edgeshrink.finetune.config import FineTune
from edgeshrink.passes.prune import PruneConfig, run
from tests import exporters, nets
from tests.passes.prune.cases import accuracy, cnn_graph, context, peer, values_of
from tests.peers import peer_names


def _silenced(trained: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The CNN with every odd channel of each hidden layer zeroed, weights and bias: they carry nothing."""
    params = {k: v.copy() for k, v in trained.items()}
    for weight, bias in (("w1", "b1"), ("w2", "b2"), ("fc1", "fb1")):
        params[weight][1::2] = 0
        params[bias][1::2] = 0
    return params


def test_structured_removes_channels_and_keeps_the_outputs(trained, train_split, test_split):
    silent = cnn_graph(_silenced(trained))
    pruned = run(silent, PruneConfig(sparsity=0.5, finetune=FineTune(epochs=0)), context(silent, train_split))
    onnx.checker.check_model(pruned)
    shapes = {name: a.shape for name, a in values_of(pruned).items()}
    assert shapes["w1"] == (4, 1, 3, 3) and shapes["w2"] == (8, 4, 3, 3)
    assert shapes["fc1"] == (16, 392) and shapes["fc2"] == (10, 16)
    assert values_of(pruned)["flat"].tolist() == [-1, 392]
    assert len(pruned.SerializeToString()) < 0.55 * len(silent.SerializeToString())
    assert [i.name for i in pruned.graph.input] == ["image"] and [o.name for o in pruned.graph.output] == ["logits"]
    x = stored_signature(silent).feed(test_split.images[:200])
    expected = inference.session(silent).run(None, {"image": x})[0]
    np.testing.assert_allclose(inference.session(pruned).run(None, {"image": x})[0], expected, rtol=1e-4, atol=1e-4)


def _nhwc_flatten(rng) -> tuple[list, dict]:
    """Conv, then a channel-last Flatten (Keras style): the kept features interleave."""
    nodes = [helper.make_node("Conv", ["image", "w", "b"], ["c"], strides=[2, 2], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("Transpose", ["r"], ["t"], perm=[0, 2, 3, 1]),
             helper.make_node("Flatten", ["t"], ["f"]),
             helper.make_node("Gemm", ["f", "out"], ["logits"])]
    return nodes, {"w": rng.normal(0, 1, (4, 1, 3, 3)), "b": rng.normal(0, 1, 4), "out": rng.normal(0, 1, (784, 10))}


def _matmul_add(rng) -> tuple[list, dict]:
    """A Keras-style MLP: MatMul then a separate bias Add."""
    nodes = [helper.make_node("Flatten", ["image"], ["f"]),
             helper.make_node("MatMul", ["f", "w"], ["m"]), helper.make_node("Add", ["m", "b"], ["h"]),
             helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("MatMul", ["r", "out"], ["o"]), helper.make_node("Add", ["o", "ob"], ["logits"])]
    return nodes, {"w": rng.normal(0, 0.1, (784, 16)), "b": rng.normal(0, 1, 16), "out": rng.normal(0, 1, (16, 10)),
                   "ob": rng.normal(0, 1, 10)}


@pytest.mark.parametrize("build, channel_axis, shapes", [
    (_nhwc_flatten, 0, {"w": (2, 1, 3, 3), "b": (2,), "out": (392, 10)}),
    (_matmul_add, 1, {"w": (784, 8), "b": (8,), "out": (8, 10)}),
])
def test_silent_channels_are_cut_exactly(build, channel_axis, shapes, train_split, test_split):
    nodes, params = build(np.random.default_rng(2))
    np.moveaxis(params["w"], channel_axis, 0)[1::2] = 0  # odd channels: no weights, no bias, output relu(0)
    params["b"][1::2] = 0
    inits = [numpy_helper.from_array(v.astype(np.float32), k) for k, v in params.items()]
    graph = helper.make_graph(nodes, "silent", [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, 28, 28])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    pruned = run(model, PruneConfig(sparsity=0.5, finetune=FineTune(epochs=0)), context(model, train_split))
    assert {name: values_of(pruned)[name].shape for name in shapes} == shapes
    x = detect.structure(model).feed(test_split.images[:100])
    np.testing.assert_allclose(inference.session(pruned).run(None, {"image": x})[0],
                               inference.session(model).run(None, {"image": x})[0], rtol=1e-4, atol=1e-4)


def _residual(fc_hidden: bool) -> onnx.ModelProto:
    """conv -> relu -> conv, added back to its own input (a residual join), then dense layers."""
    rng = np.random.default_rng(1)
    params = {"w1": rng.normal(0, 0.3, (4, 1, 3, 3)), "w2": rng.normal(0, 0.3, (4, 4, 3, 3)),
              "fc1": rng.normal(0, 0.05, (16, 4 * 28 * 28)), "fc2": rng.normal(0, 0.3, (10, 16))}
    nodes = [helper.make_node("Conv", ["image", "w1"], ["c1"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c1"], ["r1"]),
             helper.make_node("Conv", ["r1", "w2"], ["c2"], pads=[1, 1, 1, 1]),
             helper.make_node("Add", ["c2", "r1"], ["sum"]),
             helper.make_node("Flatten", ["sum"], ["f"])]
    if fc_hidden:
        nodes += [helper.make_node("Gemm", ["f", "fc1"], ["h"], transB=1), helper.make_node("Relu", ["h"], ["hr"]),
                  helper.make_node("Gemm", ["hr", "fc2"], ["logits"], transB=1)]
    else:
        params["fc2"] = rng.normal(0, 0.05, (10, 4 * 28 * 28))
        nodes.append(helper.make_node("Gemm", ["f", "fc2"], ["logits"], transB=1))
        del params["fc1"]
    inits = [numpy_helper.from_array(v.astype(np.float32), k) for k, v in params.items()]
    graph = helper.make_graph(nodes, "residual", [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, 28, 28])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


def test_layers_joined_by_a_residual_add_are_left_whole_with_a_note(train_split):
    model = _residual(fc_hidden=True)
    ctx = context(model, train_split)
    pruned = run(model, PruneConfig(sparsity=0.5, finetune=FineTune(epochs=0)), ctx)
    onnx.checker.check_model(pruned)
    shapes = {name: a.shape for name, a in values_of(pruned).items()}
    assert shapes["w1"] == (4, 1, 3, 3) and shapes["w2"] == (4, 4, 3, 3) and shapes["fc1"] == (8, 3136)
    assert any("joins its channels with another branch" in note for note in ctx.notes)


def test_no_prunable_layer_gives_a_clear_error(train_split):
    model = _residual(fc_hidden=False)
    with pytest.raises(PassError, match=r"cannot prune model 'residual': no layer can lose channels \(.*joins.*"
                                        r"use a recipe without prune such as 'fast'"):
        run(model, PruneConfig(sparsity=0.5, finetune=FineTune(epochs=0)), context(model, train_split))


def test_no_prunable_layer_leaves_auto_unpruned_with_a_note(train_split):
    # a network whose every layer feeds a depthwise convolution (as zoo's micro) keeps its channels under `auto`
    model = _residual(fc_hidden=False)
    ctx = dataclasses.replace(context(model, train_split), validation=train_split.take(256, 512))
    kept = run(model, PruneConfig(sparsity="auto", finetune=FineTune(epochs=0)), ctx)
    assert kept.graph == model.graph
    assert any(n.startswith("prune auto: cannot prune model 'residual': no layer can lose channels (")
               and n.endswith("; the model is left unpruned") for n in ctx.notes)


def test_depthwise_convolutions_are_left_whole_with_a_note(train_split):
    rng = np.random.default_rng(3)
    params = {"w1": rng.normal(0, 1, (4, 1, 3, 3)), "dw": rng.normal(0, 1, (4, 1, 3, 3)),
              "fc1": rng.normal(0, 0.05, (8, 4 * 28 * 28)), "fc2": rng.normal(0, 1, (10, 8))}
    nodes = [helper.make_node("Conv", ["image", "w1"], ["c1"], pads=[1, 1, 1, 1]),
             helper.make_node("Conv", ["c1", "dw"], ["c2"], pads=[1, 1, 1, 1], group=4),
             helper.make_node("Flatten", ["c2"], ["f"]),
             helper.make_node("Gemm", ["f", "fc1"], ["h"], transB=1),
             helper.make_node("Gemm", ["h", "fc2"], ["logits"], transB=1)]
    inits = [numpy_helper.from_array(v.astype(np.float32), k) for k, v in params.items()]
    graph = helper.make_graph(nodes, "depthwise", [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 1, 28, 28])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    ctx = context(model, train_split)
    shapes = {name: a.shape for name, a in values_of(run(model, PruneConfig(finetune=FineTune(epochs=0)), ctx)).items()}
    assert shapes["w1"] == (4, 1, 3, 3) and shapes["dw"] == (4, 1, 3, 3) and shapes["fc1"] == (4, 3136)
    assert any("grouped convolution (group=4) is left whole" in note for note in ctx.notes)
    assert any("is a grouped convolution" in note for note in ctx.notes)




# peer -> (share of channels removed, accuracy bar on 1000 test images after a short fine-tuning)
PEER_PRUNING = {
    "torch_cnn421k_dynbatch": (0.5, 0.95),
    "torch_lenet_bn_batch10": (0.5, 0.7),
    "keras_mlp_nhwc_raw255": (0.5, 0.9),
    "tf2onnx_keras3_mlp": (0.5, 0.75),
    "zoo_mnist8": (0.5, 0.75),
    "torch_dynamo_nobatch": (0.5, 0.9),
    "x_torch_cnn_2outputs": (0.5, 0.95),
    "x_torch_mlp_sigmoid_nhw": (0.5, 0.85),
    "torch_tiny_cnn_pad_avgpool": (0.25, 0.5),  # 1,674 weights: half its channels is too much to recover
}


@pytest.mark.parametrize("name", peer_names(PEER_PRUNING))
def test_structured_pruning_of_peer_models(name, train_split, test_split):
    model, signature = peer(name)
    sparsity, bar = PEER_PRUNING[name]
    ctx = context(model, train_split, images=1024, signature=signature)
    pruned = run(model, PruneConfig(sparsity=sparsity, finetune=FineTune(images=1024)), ctx)
    onnx.checker.check_model(pruned)
    assert count_params(pruned)[0] < count_params(model)[0]
    assert len(pruned.SerializeToString()) < len(model.SerializeToString())
    assert [o.name for o in pruned.graph.output] == [o.name for o in model.graph.output]
    assert accuracy(pruned, signature, test_split) > bar


def test_a_second_output_keeps_its_shape(train_split):
    """The second convolution's channels reach the features output 'hidden': it stays whole, the first is cut."""
    model = exporters.two_outputs(nets.pool_cnn())
    signature = detect.structure(model).with_preprocess(PRESETS["unit"])
    ctx = context(model, train_split, signature=signature)
    pruned = run(model, PruneConfig(sparsity=0.5, finetune=FineTune(epochs=0)), ctx)
    x = signature.feed(train_split.images[:1])
    outputs = inference.session(pruned).run(None, {signature.input_name: x})
    assert outputs[1].shape == (1, 784)
    assert values_of(pruned)["w1"].shape[0] == 4 and values_of(pruned)["w2"].shape[0] == 16
    assert any("reach the graph output 'hidden'" in note for note in ctx.notes)
