"""Fixtures for the simplify, fuse and quantize tests: a small BatchNorm CNN trained on real MNIST,
its int8 twin, and the peers' models with the preprocessing their manifest measured."""

from __future__ import annotations

import io
import warnings

import numpy as np
import onnx
import pytest

from edgeshrink import detect
from edgeshrink.core.model import with_signature
from edgeshrink.core.signature import PRESETS, Preprocess, Signature, eval_fraction
from edgeshrink.passes.base import PassContext
from tests.peers import peer_path, peer_rows

TRAIN_STEPS = 150  # about 94% on the test set: good enough to tell a broken pass from a working one


@pytest.fixture(scope="session")
def bn_cnn(train_split) -> tuple[onnx.ModelProto, Signature]:
    """conv8-BN-pool, conv16-BN-pool, fc32, fc10 with a dynamic batch; BatchNormalization kept in the graph."""
    import torch
    from torch import nn

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # two shared cores: more threads only stall
    try:
        torch.manual_seed(0)
        net = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10),
        )
        images = train_split.take(9600)
        x = torch.from_numpy(PRESETS["mnist"].apply(images.images).astype(np.float32)).unsqueeze(1)
        y = torch.from_numpy(images.labels.astype(np.int64))
        optimizer = torch.optim.Adam(net.parameters(), 3e-3)
        for _ in range(TRAIN_STEPS):
            batch = torch.randint(0, len(x), (64,))
            loss = nn.functional.cross_entropy(net(x[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        net.eval()
        buffer = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation warning
            torch.onnx.export(
                net, (torch.zeros(1, 1, 28, 28),), buffer, dynamo=False, opset_version=13,
                input_names=["image"], output_names=["logits"],
                dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
                do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE,  # keep the BN nodes
            )
    finally:
        torch.set_num_threads(threads)
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
