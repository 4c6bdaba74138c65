"""The architecture registry: exact sizes, shapes, defaults and the unknown-name error."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from edgeshrink import zoo
from edgeshrink.errors import EdgeshrinkError
from edgeshrink.zoo import registry

PARAMS = {"lenet5": 431_080, "lenet300": 266_610, "zoo8": 5_994, "tiny": 4_898}


def test_every_registered_arch_has_a_size_check():
    assert zoo.architectures() == list(PARAMS)


@pytest.mark.parametrize("arch", list(PARAMS))
def test_parameter_count(arch):
    module = zoo.build(arch)
    assert sum(p.numel() for p in module.parameters()) == PARAMS[arch]


def test_tiny_stays_under_five_thousand_parameters():
    assert sum(p.numel() for p in zoo.build("tiny").parameters()) < 5_000


@pytest.mark.parametrize("arch", list(PARAMS))
def test_logits_shape(arch):
    module = zoo.build(arch).eval()
    with torch.no_grad():
        assert module(torch.zeros(3, 1, 28, 28)).shape == (3, 10)


@pytest.mark.parametrize("arch", list(PARAMS))
def test_default_config_is_a_train_config(arch):
    cfg = zoo.default_config(arch)
    assert isinstance(cfg, zoo.TrainConfig)
    assert cfg.val_size > 0 and cfg.max_steps is None


def test_unknown_arch_lists_the_known_ones():
    with pytest.raises(EdgeshrinkError) as err:
        zoo.build("resnet")
    assert str(err.value) == "unknown architecture 'resnet'; choose one of lenet5, lenet300, zoo8, tiny"


def test_unknown_arch_in_train_and_default_config():
    with pytest.raises(EdgeshrinkError, match="unknown architecture 'vgg'"):
        zoo.default_config("vgg")
    with pytest.raises(EdgeshrinkError, match="unknown architecture 'vgg'"):
        zoo.train("vgg")


def test_duplicate_registration_is_refused():
    with pytest.raises(ValueError, match="registered twice"):
        registry._register(registry.ARCHS["tiny"])


def test_importing_the_zoo_does_not_import_torch():
    code = "import sys, edgeshrink.zoo; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
