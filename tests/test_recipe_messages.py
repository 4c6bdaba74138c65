"""What users are told about their recipes, word for word, and the edges of --set and recipe files."""

from __future__ import annotations

import pytest

from edgeshrink import recipe
from edgeshrink.errors import RecipeError

SHIPPED = "default, dynamic, fast, max, small"


def refused(text: str, *args, **kwargs) -> None:
    with pytest.raises(RecipeError) as caught:
        recipe.load(*args, **kwargs)
    assert str(caught.value) == text


def write(tmp_path, text: str, name: str = "r.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_recipe_files_and_names(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    refused(f"recipe file gone.yml does not exist; pass a shipped name ({SHIPPED}) or a path", "gone.yml")
    refused(f"recipe file gone.yaml does not exist; pass a shipped name ({SHIPPED}) or a path", "gone.yaml")
    refused(f"unknown recipe 'gone'; shipped recipes: {SHIPPED}, or pass a .yaml path", "gone")
    write(tmp_path, "steps:\n  - pass: fuse\n", "plain")  # an existing path without a suffix is a file
    plan = recipe.load("plain")
    assert plan.name == "plain" and plan.description == "" and [s.name for s in plan.steps] == ["fuse"]
    write(tmp_path, "name: mine\ndescription: just fuse\nsteps:\n  - pass: fuse\n", "alt.yml")
    plan = recipe.load("alt.yml")
    assert (plan.name, plan.description) == ("mine", "just fuse")
    (tmp_path / "folder.yaml").mkdir()
    refused(f"recipe folder.yaml is a folder; pass a shipped name ({SHIPPED}) or a .yaml file", "folder.yaml")
    (tmp_path / "mine").mkdir()
    refused(f"recipe mine is a folder; pass a shipped name ({SHIPPED}) or a .yaml file", "mine")
    (tmp_path / "small").mkdir()  # an earlier run's output folder named like a shipped recipe
    assert recipe.load("small").name == "small" and recipe.load("small").steps


def test_malformed_documents_word_for_word(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_bytes(b"\xff\xfe\x00steps")
    refused(f"recipe {path} is not a text file; pass a YAML recipe", str(path))
    write(tmp_path, "steps: [\n")
    refused(f"recipe {path} is not valid YAML: while parsing a flow node; fix the file", str(path))
    needs = f"recipe {path} needs a non-empty 'steps:' list; see 'edgeshrink recipes' and edgeshrink/recipes/default.yaml"
    for text in ("- pass: fuse\n", "steps: 3\n", "steps: []\n", "name: x\n"):
        write(tmp_path, text)
        refused(needs, str(path))
    write(tmp_path, "steps:\n  - pass: fuse\n  - method: structured\n")
    refused(f"recipe {path}, step 2: each step is a mapping with a 'pass:' key, got {{'method': 'structured'}}", str(path))
    write(tmp_path, "steps:\n  - fuse\n")
    refused(f"recipe {path}, step 1: each step is a mapping with a 'pass:' key, got 'fuse'", str(path))


def test_set_reaches_one_step_by_name_or_position():
    assert recipe.load("default", ["4.calibration_images=10"]).steps[3].config.calibration_images == 10  # the last
    assert recipe.load("default", ["1.sparsity=0.3"]).steps[0].config.sparsity == 0.3  # the first
    assert recipe.load("default", ["prune.sparsity=0.3"]).steps[0].params()["sparsity"] == 0.3
    for position in ("0", "5"):
        refused(f"override '{position}.sparsity=0.3' matches no step(s); name the step by its position, "
                "e.g. 2.sparsity=...", "default", [f"{position}.sparsity=0.3"])
    refused("override 'cluster.bits=4' matches no step(s); name the step by its position, e.g. 2.bits=...",
            "default", ["cluster.bits=4"])
    refused("override 'prune.sparsity=0.9' matches several step(s); name the step by its position, "
            "e.g. 2.sparsity=...", "max", ["prune.sparsity=0.9"])


@pytest.mark.parametrize("override", ["quantize.=3", "quantize=3", "quantize.mode"])
def test_set_that_is_not_step_param_value(override):
    refused(f"override {override!r} is not STEP.PARAM=VALUE (e.g. quantize.calibration_images=200)", "fast", [override])


def test_set_splits_at_the_first_equals_and_the_first_dot():
    refused("recipe 'fast', step 3 (quantize): mode must be one of static, dynamic, weights, not 'dynamic=yes'",
            "fast", ["quantize.mode=dynamic=yes"])
    with pytest.raises(RecipeError, match=r"step 3 \(quantize\): unknown parameter\(s\) mode\.x;"):
        recipe.load("fast", ["3.mode.x=1"])


def test_set_value_that_is_not_yaml():
    with pytest.raises(RecipeError) as caught:
        recipe.load("fast", ["quantize.calibration_images=[1,"])
    text = str(caught.value)
    assert text.startswith("override 'quantize.calibration_images=[1,': the value is not valid YAML (expected the "
                           "node content")  # YAML's own one-line problem, without its caret drawing
    assert text.endswith("); quote or fix it, e.g. calibration_images=200 or calibration_images=[1, 2]")


def test_step_params_are_its_typed_config():
    step = recipe.load("fast", ["quantize.calibration_images=64"]).steps[2]
    params = step.params()
    assert params["calibration_images"] == 64 and params["mode"] == "static" and set(params) >= {"per_channel"}


def test_nothing_that_changes_weights_may_follow_cluster_word_for_word(tmp_path):
    path = write(tmp_path, "name: r\nsteps:\n  - pass: cluster\n  - pass: fuse\n")
    refused("recipe 'r', step 2 (fuse) comes after cluster (step 1): fuse would change the shared weights "
            "(fine-tuning, folding) and undo the sharing; move it before cluster", str(path))


def test_numbers_in_scientific_notation_without_a_dot(tmp_path):
    """YAML 1.1 reads 5e-4 as text; a number parameter takes it as the number it spells, in --set and files."""
    assert recipe.load("max", ["cluster.lr=5e-4"]).steps[4].config.finetune.lr == 5e-4
    assert recipe.load("max", ["cluster.lr=1E-3"]).steps[4].config.finetune.lr == 1e-3
    path = write(tmp_path, "name: r\nsteps:\n  - pass: prune\n    lr: 2e-4\n")
    assert recipe.load(str(path)).steps[0].config.finetune.lr == 2e-4
    refused("recipe 'max', step 5 (cluster): lr must be a number, not 'e-4'", "max", ["cluster.lr=e-4"])
