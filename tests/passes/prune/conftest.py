"""Fixtures of the prune pass's tests: a small CNN trained once per module, one torch thread."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch

from tests.passes.prune.cases import cnn_graph


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
    return cnn_graph(trained)
