"""Export: onnxruntime agrees with torch at any batch size, and the signature travels with the model."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch

from edgeshrink import inference, zoo
from edgeshrink.core import model as model_io
from edgeshrink.errors import EdgeshrinkError, ModelError
from edgeshrink.zoo.train import normalize, to_unit


@pytest.fixture(scope="module")
def tiny():
    """A tiny network whose BatchNorm statistics are far from the identity, so folding is tested."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        module = zoo.build("tiny")
        for layer in module.modules():
            if isinstance(layer, torch.nn.BatchNorm2d):
                layer.running_mean.uniform_(-0.5, 0.5)
                layer.running_var.uniform_(0.5, 2.0)
                layer.weight.data.uniform_(0.5, 1.5)
                layer.bias.data.uniform_(-0.2, 0.2)
    return module.eval()


@pytest.fixture(scope="module")
def exported(tiny, tmp_path_factory):
    folder = tmp_path_factory.mktemp("zoo")
    proto = zoo.export(tiny, folder / "tiny.onnx", arch="tiny")
    return folder, proto


@pytest.mark.parametrize("batch", [1, 7])
def test_onnxruntime_matches_torch(tiny, exported, train_split, batch):
    folder, _ = exported
    sess = inference.session(model_io.load(folder / "tiny.onnx"), threads=1)
    pixels = train_split.images[:batch]
    (ort_out,) = sess.run(None, {"input": zoo.SIGNATURE.feed(pixels)})
    with torch.no_grad():
        expected = tiny(normalize(to_unit(pixels))).numpy()
    assert ort_out.shape == (batch, 10)
    np.testing.assert_allclose(ort_out, expected, rtol=1e-4, atol=1e-4)


def test_signature_and_arch_are_in_the_metadata(exported):
    folder, proto = exported
    saved = model_io.load(folder / "tiny.onnx")
    assert model_io.stored_signature(saved) == zoo.SIGNATURE
    assert {p.key: p.value for p in saved.metadata_props}[zoo.ARCH_KEY] == "tiny"
    assert saved.SerializeToString() == proto.SerializeToString()


def test_graph_is_clean(exported):
    _, proto = exported
    onnx.checker.check_model(proto, full_check=True)
    assert "BatchNormalization" not in model_io.op_histogram(proto)  # folded into the convolutions
    assert model_io.opset(proto) == 17
    (inp,), (out,) = model_io.graph_inputs(proto), proto.graph.output
    assert (inp.name, out.name) == ("input", "logits")
    assert inp.type.tensor_type.shape.dim[0].dim_param  # a named, dynamic batch dimension
    assert model_io.count_params(proto)[0] < 5_000


def test_checkpoint_restores_the_same_network(tiny, exported, train_split):
    folder, _ = exported
    checkpoint = zoo.load_checkpoint(folder / "tiny.pt")
    assert (checkpoint.arch, checkpoint.config) == ("tiny", None)
    x = normalize(to_unit(train_split.images[:5]))
    with torch.no_grad():
        assert torch.equal(checkpoint.module(x), tiny(x))


def test_export_of_a_train_result_keeps_its_config(train_split, tmp_path):
    cfg = zoo.TrainConfig(val_size=50, max_steps=3, threads=1)
    result = zoo.train("lenet5", cfg, split=train_split.take(400))
    proto = zoo.export(result, tmp_path / "lenet5.onnx", tmp_path / "ckpt" / "lenet5.pt")
    assert model_io.count_params(proto)[0] == 431_080
    assert zoo.load_checkpoint(tmp_path / "ckpt" / "lenet5.pt").config == cfg
    sess = inference.session(proto, threads=1)
    pixels = train_split.images[400:450]
    predicted = inference.predict(sess, zoo.SIGNATURE, pixels)
    with torch.no_grad():
        assert (predicted == result.module(normalize(to_unit(pixels))).argmax(1).numpy()).all()


def test_export_leaves_the_callers_module_in_its_mode(tmp_path):
    module = zoo.build("zoo8").train()
    zoo.export(module, tmp_path / "zoo8.onnx", arch="zoo8")
    assert module.training and (tmp_path / "zoo8.pt").is_file()


def test_bare_module_needs_an_arch(tiny, tmp_path):
    with pytest.raises(ValueError, match="arch=NAME"):
        zoo.export(tiny, tmp_path / "x.onnx")
    with pytest.raises(EdgeshrinkError, match="unknown architecture 'big'"):
        zoo.export(tiny, tmp_path / "x.onnx", arch="big")
    assert not (tmp_path / "x.onnx").exists()


def test_missing_or_foreign_checkpoint(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        zoo.load_checkpoint(tmp_path / "none.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ModelError, match="is not an edgeshrink checkpoint"):
        zoo.load_checkpoint(tmp_path / "junk.pt")
