"""Recipes are validated whole before anything runs; each error names the step's position."""

import dataclasses

import pytest

from edgeshrink import recipe
from edgeshrink.errors import RecipeError
from edgeshrink.passes import REGISTRY
from edgeshrink.passes.base import PassSpec
from edgeshrink.passes.registry import Registry


def write(tmp_path, text):
    path = tmp_path / "r.yaml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("name", ["default", "fast", "dynamic", "max", "small"])
def test_shipped_recipes_validate(name):
    plan = recipe.load(name)
    assert [s.name for s in plan.steps if s.name not in ("strip", "pack")][-1] == "quantize"
    assert plan.steps[0].position == 1


def test_unknown_pass_lists_known_ones(tmp_path):
    with pytest.raises(RecipeError, match=r"step 2 \(squash\): unknown pass 'squash'; known passes: prune, simplify"):
        recipe.load(write(tmp_path, "steps:\n  - pass: simplify\n  - pass: squash\n"))


def test_bad_parameter_value_and_name(tmp_path):
    with pytest.raises(RecipeError, match=r"step 1 \(quantize\): mode must be one of static, dynamic"):
        recipe.load(write(tmp_path, "steps:\n  - pass: quantize\n    mode: int4\n"))
    with pytest.raises(RecipeError, match=r"step 1 \(prune\): unknown parameter\(s\) sparsty"):
        recipe.load(write(tmp_path, "steps:\n  - pass: prune\n    sparsty: 0.5\n"))
    with pytest.raises(RecipeError, match=r"step 1 \(prune\): .*sparsity"):
        recipe.load(write(tmp_path, "steps:\n  - pass: prune\n    sparsity: 1.5\n"))


def test_float_pass_after_quantize_is_refused(tmp_path):
    with pytest.raises(RecipeError, match=r"step 2 \(simplify\) comes after quantize \(step 1\).*onnxsim issue 216"):
        recipe.load(write(tmp_path, "steps:\n  - pass: quantize\n  - pass: simplify\n"))


def test_order_checks_read_the_capabilities_on_each_pass_spec():
    fuse, quantize = REGISTRY.get("fuse"), REGISTRY.get("quantize")
    sharpen = dataclasses.replace(fuse, name="sharpen")  # a new float-only pass, in no list in recipe.py
    plan = recipe.Recipe("r", "", (recipe.Step(1, quantize, quantize.config()), recipe.Step(2, sharpen, fuse.config())))
    with pytest.raises(RecipeError, match=r"step 2 \(sharpen\) comes after quantize \(step 1\)"):
        recipe.check_order(plan)
    lenient = dataclasses.replace(sharpen, float_only=False)
    recipe.check_order(recipe.Recipe("r", "", (recipe.Step(1, quantize, quantize.config()),
                                               recipe.Step(2, lenient, fuse.config()))))


def test_quantizing_twice_is_refused(tmp_path):
    with pytest.raises(RecipeError, match=r"step 2 \(quantize\): the model is already quantized by step 1"):
        recipe.load(write(tmp_path, "steps:\n  - pass: quantize\n  - pass: quantize\n    mode: dynamic\n"))


def test_malformed_files(tmp_path):
    with pytest.raises(RecipeError, match="needs a non-empty 'steps:' list"):
        recipe.load(write(tmp_path, "name: empty\nsteps: []\n"))
    with pytest.raises(RecipeError, match="is not valid YAML"):
        recipe.load(write(tmp_path, "steps: [\n"))
    with pytest.raises(RecipeError, match="step 1: each step is a mapping with a 'pass:' key"):
        recipe.load(write(tmp_path, "steps:\n  - simplify\n"))
    with pytest.raises(RecipeError,
                       match="unknown recipe 'tiniest'; shipped recipes: default, dynamic, fast, max, small"):
        recipe.load("tiniest")


def test_overrides_by_name_and_position():
    plan = recipe.load("max", ["quantize.calibration_images=64", "2.sparsity=0.9"])
    assert next(s for s in plan.steps if s.name == "quantize").config.calibration_images == 64
    assert plan.steps[1].config.sparsity == 0.9
    with pytest.raises(RecipeError, match="matches several step"):
        recipe.load("max", ["prune.sparsity=0.9"])
    with pytest.raises(RecipeError, match="is not STEP.PARAM=VALUE"):
        recipe.load("fast", ["calibration_images=3"])


def test_registry_refuses_duplicates_and_lists_every_pass():
    assert REGISTRY.names() == ["prune", "simplify", "fuse", "cluster", "quantize", "strip", "pack"]
    with pytest.raises(ValueError, match="registered twice"):
        Registry([REGISTRY.get("fuse"), REGISTRY.get("fuse")])
    assert all(isinstance(spec, PassSpec) and spec.summary for spec in REGISTRY)


@pytest.mark.parametrize("later", ["prune", "fuse", "cluster"])
def test_nothing_that_changes_weights_may_follow_cluster(tmp_path, later):
    text = f"name: r\nsteps:\n  - pass: cluster\n  - pass: {later}\n"
    with pytest.raises(RecipeError, match=rf"step 2 \({later}\) comes after cluster \(step 1\): {later} would "
                                          "change the shared weights"):
        recipe.load(write(tmp_path, text))


def test_cluster_orders_that_make_sense(tmp_path):
    steps = recipe.load(write(tmp_path, "steps:\n  - pass: prune\n  - pass: fuse\n  - pass: cluster\n"
                                         "  - pass: simplify\n  - pass: quantize\n")).steps
    assert [s.name for s in steps] == ["prune", "fuse", "cluster", "simplify", "quantize"]
    with pytest.raises(RecipeError, match=r"step 2 \(cluster\) comes after quantize"):
        recipe.load(write(tmp_path, "steps:\n  - pass: quantize\n  - pass: cluster\n"))
    names = [s.name for s in recipe.load("max").steps]
    assert names.index("cluster") < names.index("quantize")


def test_cluster_bits_auto_is_validated_with_the_recipe(tmp_path):
    step = next(s for s in recipe.load("max").steps if s.name == "cluster")
    assert step.config.bits == "auto" and step.config.min_bits <= step.config.max_bits
    with pytest.raises(RecipeError, match=r"step 1 \(cluster\): min_bits must be between 2 and max_bits, not 6"):
        recipe.load(write(tmp_path, "steps:\n  - pass: cluster\n    bits: auto\n    min_bits: 6\n"))
    with pytest.raises(RecipeError, match=r"step 1 \(cluster\): bits must be a whole number or one of auto, not 'few'"):
        recipe.load(write(tmp_path, "steps:\n  - pass: cluster\n    bits: few\n"))
