"""The prune pass: its config, refusals, and the rounds of its schedule."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgeshrink import detect
from edgeshrink.errors import PassError
from edgeshrink.finetune.config import FineTune
from edgeshrink.params import build_config
from edgeshrink.passes.prune import PruneConfig, kept_share, run
from tests.models import linear_classifier
from tests.passes.prune.cases import context, values_of

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
    assert (cfg.method, cfg.sparsity, cfg.scope, cfg.rounds, cfg.finetune.images) == ("unstructured", 0.8, "global", 3, 100)


def test_rounds_follow_a_geometric_schedule():
    assert kept_share(0.75, 1, 2) == pytest.approx(0.5)
    assert kept_share(0.75, 2, 2) == pytest.approx(0.25)
    assert kept_share(0.5, 1, 1) == pytest.approx(0.5)


def test_a_quantized_model_is_refused(train_split):
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]),
             helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"])]
    graph = helper.make_graph(nodes, "q", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 784])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 784])],
                              [numpy_helper.from_array(np.float32(0.1), "s"), numpy_helper.from_array(np.uint8(0), "z")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    signature = detect.structure(linear_classifier())
    with pytest.raises(PassError, match="cannot prune a quantized model; put prune before quantize"):
        run(model, PruneConfig(), context(model, train_split, signature=signature))


@pytest.mark.parametrize("method", ["structured", "unstructured"])
def test_a_model_with_only_an_output_layer_is_refused(method, train_split):
    model = linear_classifier()
    with pytest.raises(PassError, match="cannot prune model 'linear'.*use a recipe without prune such as 'fast'"):
        run(model, PruneConfig(method=method, finetune=FineTune(epochs=0)), context(model, train_split))




def test_rounds_prune_step_by_step_and_fine_tune_after_each(cnn, train_split):
    ctx = context(cnn, train_split, images=128)
    pruned = run(cnn, PruneConfig(sparsity=0.75, rounds=2, finetune=FineTune(images=128)), ctx)
    assert values_of(pruned)["w1"].shape[0] == 2 and values_of(pruned)["fc1"].shape[0] == 8
    assert [label for label, _ in ctx.track.bars] == ["fine-tune 1/2", "fine-tune 2/2"]
