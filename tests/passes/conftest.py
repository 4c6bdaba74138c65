"""Fixtures for the simplify, fuse and quantize tests: a small BatchNorm CNN trained on real MNIST (tests/nets.py),
its int8 twin, and the peers' models with the preprocessing their manifest measured."""

from __future__ import annotations

import io
import warnings

import onnx
import pytest

from edgeshrink import detect
from edgeshrink.core.model import with_signature
from edgeshrink.core.signature import PRESETS, Preprocess, Signature, eval_fraction
from edgeshrink.passes.base import PassContext
from tests import nets
from tests.peers import peer_path, peer_rows


@pytest.fixture(scope="session")
def bn_cnn(mnist_dir) -> tuple[onnx.ModelProto, Signature]:
    """conv8-BN-pool, conv16-BN-pool, fc32, fc10 with a dynamic batch; BatchNormalization kept in the graph."""
    import torch

    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation warning
        torch.onnx.export(
            nets.bn_cnn(), (torch.zeros(1, 1, 28, 28),), buffer, dynamo=False, opset_version=13,
            input_names=["image"], output_names=["logits"],
            dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
            do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE,  # keep the BN nodes
        )
    model = onnx.load_from_string(buffer.getvalue())
    signature = detect.structure(model).with_preprocess(PRESETS["mnist"])
    return with_signature(model, signature), signature


@pytest.fixture(scope="session")
def quantized_cnn(bn_cnn, train_split) -> onnx.ModelProto:
    """bn_cnn after the default static quantization."""
    from edgeshrink.passes import quantize

    model, signature = bn_cnn
    return quantize.run(model, quantize.QuantizeConfig(), PassContext(signature, train_split))


def manifest_preprocess(text: str) -> Preprocess:
    """'scale=1/255;mean=0;std=1;layout=NCHW;...' -> Preprocess (layout and dtype come from the graph)."""
    fields = dict(part.split("=", 1) for part in text.split(";") if "=" in part)
    return Preprocess(*(eval_fraction(fields[key]) for key in ("scale", "mean", "std")))


@pytest.fixture(scope="session")
def load_peer():
    """name -> (model with its signature in metadata, signature); skips when ../shared/peers is absent."""
    cache: dict[str, tuple[onnx.ModelProto, Signature]] = {}

    def load(name: str) -> tuple[onnx.ModelProto, Signature]:
        if name not in cache:
            path = peer_path(name)
            row = next(row for row in peer_rows() if row["name"] == name)
            model = onnx.load(str(path))
            signature = detect.detect(model, preprocess=manifest_preprocess(row["preprocess"])).signature
            cache[name] = (with_signature(model, signature), signature)
        return cache[name]

    return load
