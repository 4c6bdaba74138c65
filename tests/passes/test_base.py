"""What every registered pass shares: documented parameters, choices written once, capabilities."""

from __future__ import annotations

import dataclasses
import typing

import pytest

from edgeshrink.passes import REGISTRY
from edgeshrink.passes.base import parameters
from edgeshrink.passes.quantize import QuantizeConfig


@pytest.mark.parametrize("spec", list(REGISTRY), ids=lambda spec: spec.name)
def test_every_parameter_has_help_and_a_default(spec):
    params = parameters(spec.config)
    assert [p.name for p in params] == [f.name for f in dataclasses.fields(spec.config)]
    assert all(p.help and p.values for p in params)
    spec.config()  # the defaults make a valid config


@pytest.mark.parametrize("spec", list(REGISTRY), ids=lambda spec: spec.name)
def test_choices_come_from_the_literal_type(spec):
    hints = typing.get_type_hints(spec.config)
    for p in parameters(spec.config):
        if typing.get_origin(hints[p.name]) is typing.Literal:
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
