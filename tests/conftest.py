"""Shared fixtures: the real MNIST data (fetched once into the user cache), the small nets the tests train
(tests/nets.py, each once per session) and the peers' models."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests import nets
from tests.peers import PEERS

# A shell starts a background job (`cmd &`) with Ctrl-C ignored, and every process it starts inherits that: the
# tests that interrupt a command with SIGINT would then wait on a command that never hears it.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The verified MNIST folder; tests that read MNIST, or run commands that do, ask for it."""
    return nets.mnist_dir()


@pytest.fixture(autouse=True)
def _mnist_only_for_who_asks(request, monkeypatch, tmp_path_factory):
    """A test that did not ask for MNIST (through mnist_dir or a fixture built on it) sees none: so a test that
    needs it and forgets to say so fails here, not on a fresh machine that has not fetched it yet."""
    if "mnist_dir" not in request.fixturenames:
        monkeypatch.setenv("EDGESHRINK_DATA_DIR", str(tmp_path_factory.getbasetemp() / "no-mnist-asked-for"))


@pytest.fixture(scope="session")
def small_cnn(tmp_path_factory, mnist_dir) -> Path:
    """A zoo8 CNN trained for a few hundred steps on real MNIST (about 97%), exported once per session."""
    from edgeshrink import zoo

    path = tmp_path_factory.mktemp("small_cnn") / "zoo8.onnx"
    zoo.export(nets.small_cnn(), path, path.with_suffix(".pt"))
    return path


@pytest.fixture(scope="session")
def tiny_cnn(tmp_path_factory, mnist_dir) -> Path:
    """zoo8 at a quarter width (906 parameters, about 91%), exported once per session."""
    from edgeshrink import zoo

    path = tmp_path_factory.mktemp("tiny_cnn") / "zoo8@0.25.onnx"
    zoo.export(nets.tiny_cnn(), path, path.with_suffix(".pt"))
    return path


@pytest.fixture(scope="session")
def fast_run(small_cnn, tmp_path_factory):
    """The small CNN through the 'fast' recipe: (PipelineReport, output folder)."""
    from edgeshrink import api

    out = tmp_path_factory.mktemp("fast")
    return api.optimize(small_cnn, "fast", ["quantize.calibration_images=100"], output=out), out


@pytest.fixture(scope="session")
def train_split(mnist_dir):
    return nets.split("train")


@pytest.fixture(scope="session")
def test_split(mnist_dir):
    return nets.split("test")


@pytest.fixture
def peers_dir() -> Path:
    if not PEERS.is_dir():
        pytest.skip(f"{PEERS} is absent (../shared/peers beside this clone), so the peers' models cannot be tested")
    return PEERS
