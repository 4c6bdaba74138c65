"""Each order rule of recipes, for each pass it names, through real YAML: every float pass after quantize,
what an already-quantized input gets, and the passes that are allowed where the others are not."""

import pytest

from edgeshrink import recipe
from edgeshrink.errors import RecipeError
from edgeshrink.passes import REGISTRY

FLOAT_PASSES = ["prune", "simplify", "fuse"]  # the README: "a float pass after quantization" is refused


def _load(tmp_path, *passes: str) -> recipe.Recipe:
    path = tmp_path / "r.yaml"
    path.write_text("name: r\nsteps:\n" + "".join(f"  - pass: {name}\n" for name in passes))
    return recipe.load(str(path))


def test_the_float_passes_are_marked_float_only_and_quantize_is_not():
    assert [spec.name for spec in REGISTRY if spec.float_only] == [*FLOAT_PASSES, "cluster"]
    assert [spec.name for spec in REGISTRY if spec.quantizes] == ["quantize"]


@pytest.mark.parametrize("name", FLOAT_PASSES)
def test_each_float_pass_after_quantize_is_refused(name, tmp_path):
    with pytest.raises(RecipeError, match=rf"recipe 'r', step 3 \({name}\) comes after quantize \(step 2\): "
                                          rf"{name} would unfold the int8 weights"):
        _load(tmp_path, "simplify", "quantize", name)
    plan = _load(tmp_path, name, "quantize")  # the same pass before quantize is fine
    assert [step.name for step in plan.steps] == [name, "quantize"]


def test_on_a_quantized_input_only_the_clean_ups_are_tried():
    """Recipe validation no longer refuses an int8 input: the pipeline skips what needs float weights and
    tries the clean-ups, keeping their model only if no int8 weight came out as float (tests/test_pipeline.py)."""
    assert [spec.name for spec in REGISTRY if spec.tried_on_int8] == ["simplify", "fuse"]
    assert [spec.name for spec in REGISTRY if spec.float_only and not spec.tried_on_int8] == ["prune", "cluster"]


def test_a_quantized_input_may_meet_quantize_and_strip(tmp_path):
    assert [s.name for s in _load(tmp_path, "quantize", "strip").steps] == ["quantize", "strip"]


def test_quantize_twice_is_refused_even_apart(tmp_path):
    with pytest.raises(RecipeError, match=r"step 3 \(quantize\): the model is already quantized by step 1"):
        _load(tmp_path, "quantize", "strip", "quantize")


def test_steps_are_numbered_from_one_in_order(tmp_path):
    plan = _load(tmp_path, "prune", "simplify", "fuse", "quantize")
    assert [(s.position, s.name) for s in plan.steps] == [(1, "prune"), (2, "simplify"), (3, "fuse"), (4, "quantize")]


def test_a_recipe_says_which_latency_judges_slower(tmp_path):
    path = tmp_path / "native.yaml"
    path.write_text("name: native\nlatency: native\nsteps:\n  - pass: simplify\n")
    assert recipe.load(str(path)).latency == "native"
    assert _load(tmp_path, "simplify").latency == "edge"  # the page's runtime, by default
    path.write_text("name: bad\nlatency: gpu\nsteps:\n  - pass: simplify\n")
    with pytest.raises(RecipeError, match="latency must be edge or native .* not 'gpu'"):
        recipe.load(str(path))
