"""Fixtures of the prune pass's tests: a small CNN trained once per session (tests/nets.py), one torch thread."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch

from tests import nets
from tests.passes.prune.cases import cnn_graph


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Fine-tuning tiny models on a shared CPU: more threads than free cores stall torch many times over."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def trained(mnist_dir) -> dict[str, np.ndarray]:
    """A small CNN trained briefly on 4000 training images (a copy of its weights: each test may change them)."""
    return {name: value.copy() for name, value in nets.pool_cnn().items()}


@pytest.fixture(scope="module")
def cnn(mnist_dir) -> onnx.ModelProto:
    return cnn_graph(nets.pool_cnn())
