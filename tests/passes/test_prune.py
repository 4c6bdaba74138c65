"""The prune pass: config, unstructured masks, structured graph surgery, fine-tuning, and the peers."""

from __future__ import annotations

import contextlib

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper, numpy_helper

from edgeshrink import detect, inference
from edgeshrink.errors import PassError
from edgeshrink.model import count_params, stored_signature, with_signature
from edgeshrink.passes.base import PassContext, build_config
from edgeshrink.passes.prune import PruneConfig, kept_share, run
from edgeshrink.passes.prune_finetune import score_tensor
from edgeshrink.signature import PRESETS, Preprocess, eval_fraction
from tests.models import linear_classifier
from tests.peers import peer_path, peer_rows

WEIGHTS = ("w1", "w2", "fc1", "fc2")


def _arrays(model: onnx.ModelProto) -> dict[str, np.ndarray]:
    return {init.name: numpy_helper.to_array(init) for init in model.graph.initializer}


def _cnn_graph(params: dict[str, np.ndarray], softmax: bool = False) -> onnx.ModelProto:
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


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Training tiny models on a shared CPU: more threads than free cores stall torch many times over."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def trained(train_split) -> dict[str, np.ndarray]:
    """A small CNN trained briefly on 4000 training images."""
    with torch.random.fork_rng():  # other tests keep their own random state
        torch.manual_seed(0)
        net = torch.nn.Sequential(
            torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Flatten(), torch.nn.Linear(784, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
    x = torch.from_numpy(train_split.images[:4000].astype(np.float32)[:, None] / 255)
    y = torch.from_numpy(train_split.labels[:4000].astype(np.int64))
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-3)
    for epoch in range(2):
        for start in range(0, 4000, 64):
            loss = torch.nn.functional.cross_entropy(net(x[start:start + 64]), y[start:start + 64])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    names = ["w1", "b1", "w2", "b2", "fc1", "fb1", "fc2", "fb2"]
    return {name: p.detach().numpy().copy() for name, p in zip(names, net.parameters())}


@pytest.fixture(scope="module")
def cnn(trained) -> onnx.ModelProto:
    return _cnn_graph(trained)


class _Progress:
    """A PassContext.track that records what it was asked to show."""

    def __init__(self):
        self.bars: list[tuple[str, int]] = []

    @contextlib.contextmanager
    def __call__(self, description: str, total: int):
        self.bars.append((description, total))
        yield lambda n: None


def _ctx(model: onnx.ModelProto, train_split, images: int = 512, signature=None) -> PassContext:
    signature = signature or stored_signature(model) or detect.structure(model)
    return PassContext(signature=signature, train=train_split.take(images), track=_Progress())


def _accuracy(model: onnx.ModelProto, signature, test_split, n: int = 1000) -> float:
    test = test_split.take(n)
    return inference.accuracy(inference.session(model), signature, test.images, test.labels)


def _predictions(model: onnx.ModelProto, signature, pixels: np.ndarray) -> np.ndarray:
    return inference.predict(inference.session(model), signature, pixels)


# --- config ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("params, message", [
    ({"sparsity": 1.0}, "sparsity must be between 0 and 0.99"),
    ({"sparsity": -0.1}, "sparsity must be between 0 and 0.99"),
    ({"rounds": 0}, "rounds must be at least 1"),
    ({"finetune_epochs": -1.0}, "finetune_epochs must be 0 or more"),
    ({"lr": 0.0}, "lr must be greater than 0"),
    ({"batch_size": 0}, "batch_size must be at least 1"),
    ({"temperature": 0.0}, "temperature must be greater than 0"),
    ({"alpha": 1.5}, "alpha must be between 0 and 1"),
    ({"finetune_images": 0}, "finetune_images must be at least 1"),
    ({"threads": -1}, "threads must be 0 or more"),
    ({"method": "structured", "scope": "global"}, "scope global applies to unstructured pruning only"),
    ({"method": "channels"}, "method must be one of unstructured, structured"),
])
def test_config_rejects_bad_values_with_a_reason(params, message):
    with pytest.raises(ValueError, match=message):
        build_config(PruneConfig, params)


def test_config_reads_recipe_parameters():
    cfg = build_config(PruneConfig, {"method": "unstructured", "sparsity": 0.8, "scope": "global",
                                     "rounds": 3, "finetune_epochs": 0.5, "finetune_images": 100})
    assert (cfg.method, cfg.sparsity, cfg.scope, cfg.rounds, cfg.finetune_images) == ("unstructured", 0.8, "global", 3, 100)


def test_rounds_follow_a_geometric_schedule():
    assert kept_share(0.75, 1, 2) == pytest.approx(0.5)
    assert kept_share(0.75, 2, 2) == pytest.approx(0.25)
    assert kept_share(0.5, 1, 1) == pytest.approx(0.5)


# --- refusals -------------------------------------------------------------------------------------

def test_a_quantized_model_is_refused(train_split):
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]),
             helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"])]
    graph = helper.make_graph(nodes, "q", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 784])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 784])],
                              [numpy_helper.from_array(np.float32(0.1), "s"), numpy_helper.from_array(np.uint8(0), "z")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    signature = detect.structure(linear_classifier())
    with pytest.raises(PassError, match="cannot prune a quantized model; put prune before quantize"):
        run(model, PruneConfig(), _ctx(model, train_split, signature=signature))


@pytest.mark.parametrize("method", ["structured", "unstructured"])
def test_a_model_with_only_an_output_layer_is_refused(method, train_split):
    model = linear_classifier()
    with pytest.raises(PassError, match="cannot prune model 'linear'.*use a recipe without prune such as 'fast'"):
        run(model, PruneConfig(method=method, finetune_epochs=0), _ctx(model, train_split))


# --- unstructured ---------------------------------------------------------------------------------

def test_unstructured_zeroes_the_smallest_weights_of_each_hidden_layer(cnn, train_split, test_split):
    before = cnn.SerializeToString()
    cfg = PruneConfig(method="unstructured", sparsity=0.6, finetune_epochs=0)
    pruned = run(cnn, cfg, _ctx(cnn, train_split))
    onnx.checker.check_model(pruned)
    assert cnn.SerializeToString() == before  # the input model is never changed
    arrays, original = _arrays(pruned), _arrays(cnn)
    for name in ("w1", "w2", "fc1"):
        assert (arrays[name] == 0).mean() == pytest.approx(0.6, abs=1 / arrays[name].size)
        kept = arrays[name] != 0
        assert np.abs(original[name][kept]).min() >= np.abs(original[name][~kept]).max()
    np.testing.assert_array_equal(arrays["fc2"], original["fc2"])  # the output layer is never pruned
    assert stored_signature(pruned) == stored_signature(cnn)
    pixels = test_split.images[:500]
    signature = stored_signature(cnn)
    assert (_predictions(pruned, signature, pixels) == _predictions(cnn, signature, pixels)).mean() > 0.9


def test_global_scope_sets_one_threshold_for_all_layers(cnn, train_split):
    cfg = PruneConfig(method="unstructured", sparsity=0.7, scope="global", finetune_epochs=0)
    arrays = _arrays(run(cnn, cfg, _ctx(cnn, train_split)))
    hidden = np.concatenate([arrays[name].ravel() for name in ("w1", "w2", "fc1")])
    assert (hidden == 0).mean() == pytest.approx(0.7, abs=1e-3)
    shares = [(arrays[name] == 0).mean() for name in ("w1", "w2", "fc1")]
    assert max(shares) - min(shares) > 0.05  # layers differ: small weights are not spread evenly


def test_fine_tuning_keeps_pruned_weights_at_zero(cnn, train_split, test_split):
    ctx = _ctx(cnn, train_split, images=1024)
    masked = run(cnn, PruneConfig(method="unstructured", sparsity=0.8, finetune_epochs=0), ctx)
    tuned = run(cnn, PruneConfig(method="unstructured", sparsity=0.8, finetune_images=1024), ctx)
    for name in ("w1", "w2", "fc1"):
        zeros = _arrays(masked)[name] == 0
        assert np.all(_arrays(tuned)[name][zeros] == 0)
        assert not np.array_equal(_arrays(tuned)[name], _arrays(masked)[name])  # the rest trained
    assert ctx.track.bars[-1] == ("fine-tune", 16)
    assert _accuracy(tuned, ctx.signature, test_split) > 0.85


# --- structured -----------------------------------------------------------------------------------

def _silenced(trained: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The CNN with every odd channel of each hidden layer zeroed, weights and bias: they carry nothing."""
    params = {k: v.copy() for k, v in trained.items()}
    for weight, bias in (("w1", "b1"), ("w2", "b2"), ("fc1", "fb1")):
        params[weight][1::2] = 0
        params[bias][1::2] = 0
    return params


def test_structured_removes_channels_and_keeps_the_outputs(trained, train_split, test_split):
    silent = _cnn_graph(_silenced(trained))
    pruned = run(silent, PruneConfig(sparsity=0.5, finetune_epochs=0), _ctx(silent, train_split))
    onnx.checker.check_model(pruned)
    shapes = {name: a.shape for name, a in _arrays(pruned).items()}
    assert shapes["w1"] == (4, 1, 3, 3) and shapes["w2"] == (8, 4, 3, 3)
    assert shapes["fc1"] == (16, 392) and shapes["fc2"] == (10, 16)
    assert _arrays(pruned)["flat"].tolist() == [-1, 392]
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
    pruned = run(model, PruneConfig(sparsity=0.5, finetune_epochs=0), _ctx(model, train_split))
    assert {name: _arrays(pruned)[name].shape for name in shapes} == shapes
    x = detect.structure(model).feed(test_split.images[:100])
    np.testing.assert_allclose(inference.session(pruned).run(None, {"image": x})[0],
                               inference.session(model).run(None, {"image": x})[0], rtol=1e-4, atol=1e-4)


def test_structured_with_fine_tuning_recovers_accuracy(cnn, train_split, test_split):
    ctx = _ctx(cnn, train_split, images=2048)
    pruned = run(cnn, PruneConfig(sparsity=0.5, finetune_images=2048), ctx)
    total_before, _ = count_params(cnn)
    total_after, _ = count_params(pruned)
    assert total_after < 0.4 * total_before
    assert ctx.track.bars == [("fine-tune", 32)]
    assert _accuracy(pruned, ctx.signature, test_split) > 0.85


def test_rounds_prune_step_by_step_and_fine_tune_after_each(cnn, train_split):
    ctx = _ctx(cnn, train_split, images=128)
    pruned = run(cnn, PruneConfig(sparsity=0.75, rounds=2, finetune_images=128), ctx)
    assert _arrays(pruned)["w1"].shape[0] == 2 and _arrays(pruned)["fc1"].shape[0] == 8
    assert [label for label, _ in ctx.track.bars] == ["fine-tune 1/2", "fine-tune 2/2"]


def test_softmax_output_trains_on_the_scores_before_it(trained, train_split, test_split):
    model = _cnn_graph(trained, softmax=True)
    signature = stored_signature(model)
    assert signature.output_kind == "probabilities" and score_tensor(model, signature) == "logits"
    ctx = _ctx(model, train_split, images=1024)
    pruned = run(model, PruneConfig(sparsity=0.5, finetune_images=1024, distill=True), ctx)
    probs = inference.scores(inference.session(pruned), signature, test_split.images[:50])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert _accuracy(pruned, signature, test_split) > 0.85


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
    ctx = _ctx(model, train_split)
    pruned = run(model, PruneConfig(sparsity=0.5, finetune_epochs=0), ctx)
    onnx.checker.check_model(pruned)
    shapes = {name: a.shape for name, a in _arrays(pruned).items()}
    assert shapes["w1"] == (4, 1, 3, 3) and shapes["w2"] == (4, 4, 3, 3) and shapes["fc1"] == (8, 3136)
    assert any("joins its channels with another branch" in note for note in ctx.notes)


def test_no_prunable_layer_gives_a_clear_error(train_split):
    model = _residual(fc_hidden=False)
    with pytest.raises(PassError, match=r"cannot prune model 'residual': no layer can lose channels \(.*joins.*"
                                        r"use a recipe without prune such as 'fast'"):
        run(model, PruneConfig(sparsity=0.5, finetune_epochs=0), _ctx(model, train_split))


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
    ctx = _ctx(model, train_split)
    shapes = {name: a.shape for name, a in _arrays(run(model, PruneConfig(finetune_epochs=0), ctx)).items()}
    assert shapes["w1"] == (4, 1, 3, 3) and shapes["dw"] == (4, 1, 3, 3) and shapes["fc1"] == (4, 3136)
    assert any("grouped convolution (group=4) is left whole" in note for note in ctx.notes)
    assert any("is a grouped convolution" in note for note in ctx.notes)


# --- the peers' models ----------------------------------------------------------------------------

def _peer(name: str) -> tuple[onnx.ModelProto, object]:
    row = next(r for r in peer_rows() if r["name"] == name)
    model = onnx.load(str(peer_path(name)))
    given = dict(part.split("=") for part in row["preprocess"].split(";"))
    preprocess = Preprocess(eval_fraction(given["scale"]), float(given["mean"]), float(given["std"]))
    return model, detect.structure(model).with_preprocess(preprocess)


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


@pytest.mark.parametrize("name", PEER_PRUNING)
def test_structured_pruning_of_peer_models(name, train_split, test_split):
    model, signature = _peer(name)
    sparsity, bar = PEER_PRUNING[name]
    ctx = _ctx(model, train_split, images=1024, signature=signature)
    pruned = run(model, PruneConfig(sparsity=sparsity, finetune_images=1024), ctx)
    onnx.checker.check_model(pruned)
    assert count_params(pruned)[0] < count_params(model)[0]
    assert len(pruned.SerializeToString()) < len(model.SerializeToString())
    assert [o.name for o in pruned.graph.output] == [o.name for o in model.graph.output]
    assert _accuracy(pruned, signature, test_split) > bar


def test_a_second_output_keeps_its_shape(train_split):
    model, signature = _peer("x_torch_cnn_2outputs")
    ctx = _ctx(model, train_split, signature=signature)
    pruned = run(model, PruneConfig(sparsity=0.5, finetune_epochs=0), ctx)
    x = signature.feed(train_split.images[:1])
    outputs = inference.session(pruned).run(None, {signature.input_name: x})
    assert outputs[1].shape == (1, 1568)
    assert _arrays(pruned)["conv1.0.weight"].shape[0] == 8
    assert any("reach the graph output 'hidden'" in note for note in ctx.notes)


@pytest.mark.parametrize("name", ["zoo_mnist8", "torch_dynamo_nobatch"])
def test_unstructured_pruning_of_peer_models(name, train_split, test_split):
    model, signature = _peer(name)
    pruned = run(model, PruneConfig(method="unstructured", sparsity=0.5, finetune_epochs=0),
                 _ctx(model, train_split, signature=signature))
    onnx.checker.check_model(pruned)
    before, after = _arrays(model), _arrays(pruned)
    changed = [n for n in before if not np.array_equal(before[n], after[n])]
    assert changed and all((after[n] == 0).mean() == pytest.approx(0.5, abs=0.01) for n in changed)
    pixels = test_split.images[:300]
    assert (_predictions(pruned, signature, pixels) == _predictions(model, signature, pixels)).mean() > 0.9
