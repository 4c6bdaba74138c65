"""The architecture registry: exact sizes, shapes, defaults and the unknown-name error."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from edgeshrink import zoo
from edgeshrink.errors import EdgeshrinkError
from edgeshrink.zoo import registry

PARAMS = {"lenet5": 431_080, "lenet300": 266_610, "zoo8": 5_994, "tiny": 4_898, "micro": 2_414}


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
    assert str(err.value) == "unknown architecture 'resnet'; choose one of lenet5, lenet300, zoo8, tiny, micro"


def test_unknown_arch_in_train_and_default_config():
    with pytest.raises(EdgeshrinkError, match="unknown architecture 'vgg'"):
        zoo.default_config("vgg")
    with pytest.raises(EdgeshrinkError, match="unknown architecture 'vgg'"):
        zoo.train("vgg")


# Every hidden layer scaled by W (rounded): lenet5@0.5 is 10 and 25 channels, 250 units.
WIDE = {"lenet5@0.5": 1 * 10 * 25 + 10 + 10 * 25 * 25 + 25 + 400 * 250 + 250 + 250 * 10 + 10,
        "lenet300@0.5": 784 * 150 + 150 + 150 * 50 + 50 + 50 * 10 + 10,
        "zoo8@2": 1 * 16 * 25 + 16 + 16 * 32 * 25 + 32 + 512 * 10 + 10}


@pytest.mark.parametrize("spec", list(WIDE))
def test_width_multiplier_scales_the_hidden_layers(spec):
    module = zoo.build(spec)
    assert sum(p.numel() for p in module.parameters()) == WIDE[spec]
    with torch.no_grad():
        assert module.eval()(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


def test_tiny_at_half_width_keeps_its_shape():
    widths = [m.out_channels for m in zoo.build("tiny@0.5").modules() if isinstance(m, torch.nn.Conv2d)]
    assert widths == [8, 8, 12, 12, 16, 16, 20, 10]


def test_width_one_is_the_published_network():
    assert zoo.canonical("lenet5@1") == zoo.canonical("lenet5@1.0") == "lenet5"
    assert zoo.canonical("lenet5@0.50") == "lenet5@0.5"
    assert zoo.parse("zoo8@0.75") == ("zoo8", 0.75)
    assert zoo.default_config("zoo8@0.5") == zoo.default_config("zoo8")


@pytest.mark.parametrize("spec, problem", [
    ("lenet5@x", "bad width multiplier 'x' in 'lenet5@x'; write NAME@W with W between 0.25 and 4, e.g. lenet5@0.5"),
    ("lenet5@0.1", "bad width multiplier '0.1'"),
    ("lenet5@nan", "bad width multiplier 'nan'"),
    ("lenet5@", "bad width multiplier ''"),
    ("vgg@0.5", "unknown architecture 'vgg'"),
])
def test_bad_width_multiplier(spec, problem):
    with pytest.raises(EdgeshrinkError) as err:
        zoo.build(spec)
    assert problem in str(err.value)


def test_duplicate_registration_is_refused():
    with pytest.raises(ValueError, match="registered twice"):
        registry._register(registry.ARCHS["tiny"])


def test_importing_the_zoo_does_not_import_torch():
    code = "import sys, edgeshrink.zoo; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
