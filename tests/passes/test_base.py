"""What every registered pass shares: documented parameters, choices written once, capabilities."""

from __future__ import annotations

import typing

import pytest

from edgeshrink.params import build_config, parameters, recipe_params
from edgeshrink.passes import REGISTRY
from edgeshrink.passes.quantize import QuantizeConfig


@pytest.mark.parametrize("spec", list(REGISTRY), ids=lambda spec: spec.name)
def test_every_parameter_has_help_and_a_default(spec):
    params = parameters(spec.config)
    assert [p.name for p in params] == list(recipe_params(spec.config()))  # a nested config's, flat
    assert all(p.help and p.values for p in params)
    spec.config()  # the defaults make a valid config


@pytest.mark.parametrize("spec", list(REGISTRY), ids=lambda spec: spec.name)
def test_choices_come_from_the_literal_type(spec):
    hints = typing.get_type_hints(spec.config)
    for p in parameters(spec.config):
        if typing.get_origin(hints.get(p.name)) is typing.Literal:  # a nested config has none
            assert p.values == " | ".join(map(str, typing.get_args(hints[p.name])))
            assert p.default in typing.get_args(hints[p.name])


def test_capabilities_are_on_the_specs():
    assert [s.name for s in REGISTRY if s.float_only] == ["prune", "simplify", "fuse", "cluster"]
    assert [s.name for s in REGISTRY if s.quantizes] == ["quantize"]
    assert [s.name for s in REGISTRY if s.shares] == ["cluster"]
    assert [s.name for s in REGISTRY if s.reweights] == ["prune", "fuse", "cluster"]


def test_direct_construction_checks_choices_too():
    with pytest.raises(ValueError, match="format must be one of QDQ, QOperator, not 'QLinear'"):
        QuantizeConfig(format="QLinear")


def test_a_nested_fine_tuning_config_is_set_flat_with_the_pass_defaults():
    from edgeshrink.passes.cluster import ClusterConfig
    from edgeshrink.passes.prune import PruneConfig

    cluster = build_config(ClusterConfig, {"bits": 3, "finetune_epochs": 0.5, "finetune_images": 100})
    assert (cluster.finetune.epochs, cluster.finetune.images) == (0.5, 100)
    assert (cluster.finetune.lr, cluster.finetune.distill) == (2e-4, True)  # cluster's defaults, not prune's
    prune = build_config(PruneConfig, {"lr": 5e-4})
    assert (prune.finetune.lr, prune.finetune.distill) == (5e-4, False)
    assert recipe_params(cluster)["finetune_epochs"] == 0.5 and "finetune" not in recipe_params(cluster)
    with pytest.raises(ValueError, match="finetune_epochs must be 0 or more, not -1"):
        build_config(PruneConfig, {"finetune_epochs": -1})
