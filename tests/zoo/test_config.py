"""TrainConfig: built from recipe-style parameters, bad values refused with a readable reason."""

from __future__ import annotations

import pytest

from edgeshrink import zoo
from edgeshrink.params import build_config


def test_train_config_builds_from_recipe_style_params():
    cfg = build_config(zoo.TrainConfig, {"epochs": 2, "optimizer": "sgd", "max_steps": 10})
    assert (cfg.epochs, cfg.optimizer, cfg.max_steps) == (2, "sgd", 10)


@pytest.mark.parametrize("params, message", [
    ({"epochs": 0}, "epochs must be a whole number of at least 1"),
    ({"lr": 0.0}, "lr must be greater than 0"),
    ({"optimizer": "rmsprop"}, "optimizer must be one of adamw, sgd"),
    ({"max_steps": 0}, "max_steps must be a whole number of at least 1"),
    ({"label_smoothing": 1.0}, "label_smoothing must be in"),
    ({"weight_decay": -1.0}, "weight_decay must be 0 or more"),
])
def test_train_config_rejects_bad_values(params, message):
    with pytest.raises(ValueError, match=message):
        zoo.TrainConfig(**params)
