"""Training: it learns from a few steps, is deterministic, and leaves torch's global state alone."""

from __future__ import annotations

import contextlib
from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from edgeshrink import zoo
from edgeshrink.data.augment import random_affine
from edgeshrink.errors import EdgeshrinkError
from edgeshrink.zoo.train import normalize, to_unit

QUICK = zoo.TrainConfig(epochs=1, batch_size=64, lr=3e-3, val_size=500, max_steps=30, threads=1)


@pytest.fixture(scope="module")
def fit_slice(train_split):
    return train_split.take(3000)


@pytest.fixture(scope="module")
def held_out(train_split):
    return train_split.take(1000, start=50_000)  # training images, but not in fit_slice


def _loss(module, split) -> float:
    module.eval()
    with torch.no_grad():
        logits = module(normalize(to_unit(split.images)))
        return float(F.cross_entropy(logits, torch.from_numpy(split.labels.astype(np.int64))))


@pytest.mark.parametrize("arch, least", [("zoo8", 0.5), ("tiny", 0.2), ("micro", 0.2)])  # GAP and augment start slowly
def test_a_few_steps_learn(arch, least, fit_slice, held_out):
    with torch.random.fork_rng():
        torch.manual_seed(QUICK.seed)
        untrained = zoo.build(arch)
    cfg = replace(zoo.default_config(arch), epochs=1, batch_size=64, val_size=500, max_steps=40, threads=1)
    result = zoo.train(arch, cfg, split=fit_slice)
    assert _loss(result.module, held_out) < _loss(untrained, held_out)
    assert zoo.accuracy(result.module, held_out) > least  # chance is 0.1
    assert not result.module.training


def test_result_describes_the_run(fit_slice):
    result = zoo.train("zoo8", QUICK, split=fit_slice)
    assert (result.arch, result.params, result.config) == ("zoo8", 5_994, QUICK)
    assert result.epochs_run == result.best_epoch == 1
    assert result.history[0].steps == 30
    assert result.val_accuracy == result.history[0].val_accuracy
    assert result.seconds > 0


def test_same_seed_same_weights_other_seed_other_weights(fit_slice):
    cfg = zoo.TrainConfig(epochs=1, batch_size=32, val_size=100, max_steps=5, threads=1, augment=True)
    first, second = (zoo.train("tiny", cfg, split=fit_slice).module.state_dict() for _ in range(2))
    assert all(torch.equal(first[k], second[k]) for k in first)
    other = zoo.train("tiny", zoo.TrainConfig(**{**cfg.to_dict(), "seed": 1}), split=fit_slice).module
    assert not torch.equal(first["0.0.weight"], other.state_dict()["0.0.weight"])


def test_max_steps_spans_epochs_and_reports_progress(fit_slice):
    calls = []

    @contextlib.contextmanager
    def track(description, total):
        done = []
        yield done.append
        calls.append((description, total, sum(done)))

    cfg = zoo.TrainConfig(epochs=3, batch_size=64, val_size=40, max_steps=15, threads=1)
    result = zoo.train("lenet300", cfg, split=fit_slice.take(680), track=track)
    assert [e.steps for e in result.history] == [10, 5]
    assert calls == [("train lenet300 epoch 1/3", 10, 10), ("train lenet300 epoch 2/3", 5, 5)]


def test_global_torch_state_is_restored(fit_slice):
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    zoo.train("lenet300", zoo.TrainConfig(val_size=100, max_steps=2, threads=1), split=fit_slice)
    assert torch.equal(torch.rand(3), expected)
    assert torch.get_num_threads() == threads
    assert torch.are_deterministic_algorithms_enabled() == deterministic


def test_validation_split_too_large(fit_slice):
    with pytest.raises(EdgeshrinkError, match="val_size 5000 leaves no training images out of 3000"):
        zoo.train("zoo8", zoo.TrainConfig(val_size=5000, max_steps=1), split=fit_slice)


def test_no_validation_keeps_the_last_epoch(fit_slice):
    cfg = zoo.TrainConfig(epochs=2, batch_size=64, val_size=0, max_steps=4, threads=1)
    result = zoo.train("lenet300", cfg, split=fit_slice.take(128))
    assert result.val_accuracy is None and result.best_epoch == 2


def test_random_affine_is_seeded_and_keeps_digits_in_range(fit_slice):
    x = to_unit(fit_slice.images[:16])
    a = random_affine(x, torch.Generator().manual_seed(0))
    b = random_affine(x, torch.Generator().manual_seed(0))
    assert torch.equal(a, b) and a.shape == x.shape
    assert not torch.equal(a, x)
    assert a.min() >= 0 and a.max() <= 1
    ratio = a.sum(dim=(1, 2, 3)) / x.sum(dim=(1, 2, 3))
    assert ((ratio > 0.7) & (ratio < 1.3)).all()  # at most 10% scaling: the ink is shifted, not lost
    assert torch.equal(random_affine(torch.zeros(2, 1, 28, 28), torch.Generator()), torch.zeros(2, 1, 28, 28))
