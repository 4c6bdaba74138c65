"""The search space: recipe steps built as data, validated like any recipe, reproduced from YAML."""

from __future__ import annotations

import optuna
import pytest

from edgeshrink import recipe as recipes
from edgeshrink.errors import SearchError
from edgeshrink.search.study import space as spaces


def test_empty_space_is_an_error():
    with pytest.raises(SearchError, match="search space is empty"):
        spaces.make_space([], ["input"])


def test_unknown_dimension_names_the_known_ones():
    with pytest.raises(SearchError, match="unknown search dimension.*quantize"):
        spaces.make_space(["pruning"], ["input"])


def test_architectures_alone_make_a_space():
    space, _ = spaces.make_space([], ["input", "tiny"])
    arch, steps = spaces.suggest(optuna.trial.FixedTrial({"arch": "tiny"}), space)
    assert arch == "tiny" and [s["pass"] for s in steps] == ["simplify", "fuse"]


def test_unregistered_pass_is_left_out_with_a_note():
    space, notes = spaces.make_space(list(spaces.SEARCHABLE), ["input"])
    missing = [name for name, why in spaces.available().items() if why]
    assert set(space.groups) == set(spaces.SEARCHABLE) - set(missing)
    assert len(notes) == len(missing) and all("left out" in n for n in notes)


def test_trial_choices_become_a_recipe_that_yaml_reproduces(tmp_path):
    space, _ = spaces.make_space(["structured", "unstructured", "quantize"], ["input"], train_images=55000)
    params = {"structured_sparsity": 0.4, "unstructured_sparsity": 0.8, "finetune_epochs": 0.5, "distill": True,
              "quantize": "static", "per_channel": False, "format": "QOperator", "calibration": "Entropy",
              "calibration_images": 500}
    _, steps = spaces.suggest(optuna.trial.FixedTrial(params), space)
    assert [s["pass"] for s in steps] == ["prune", "prune", "simplify", "fuse", "quantize"]
    assert all(s["finetune_images"] == 55000 for s in steps if s["pass"] == "prune")  # validation images unseen
    built = spaces.build("t", steps)
    path = tmp_path / "t.yaml"
    path.write_text(spaces.to_yaml("t", "d", steps))
    loaded = recipes.load(str(path))
    assert [(s.name, s.config) for s in loaded.steps] == [(s.name, s.config) for s in built.steps]


def test_none_choices_drop_their_steps():
    space, _ = spaces.make_space(["structured", "quantize"], ["input"])
    _, steps = spaces.suggest(optuna.trial.FixedTrial({"structured_sparsity": 0.0, "quantize": "none"}), space)
    assert [s["pass"] for s in steps] == ["simplify", "fuse"]


def test_an_int8_input_alone_leaves_out_what_optimize_skips():
    with pytest.raises(SearchError, match=r"already int8, so there is nothing to search: structured \(prune needs "
                                          r"float weights\), quantize \(quantize has nothing left to do\)"):
        spaces.make_space(["structured", "quantize"], ["input"], int8_archs=("input",))


def test_an_int8_input_beside_architectures_skips_those_groups_in_its_own_trials():
    space, notes = spaces.make_space(list(spaces.SEARCHABLE), ["input", "tiny"], int8_archs=("input",))
    assert space.groups == spaces.SEARCHABLE and space.describe()["int8_archs"] == ["input"]
    assert any("input model is already int8: its trials leave out structured" in n for n in notes)
    choices = {"structured_sparsity": 0.4, "unstructured_sparsity": 0.5, "finetune_epochs": 0.25, "distill": False,
               "cluster_bits": 4, "quantize": "dynamic", "per_channel": True}
    _, steps = spaces.suggest(optuna.trial.FixedTrial({"arch": "input", **choices}), space)
    assert [s["pass"] for s in steps] == ["simplify", "fuse"]
    _, steps = spaces.suggest(optuna.trial.FixedTrial({"arch": "tiny", **choices}), space)
    assert [s["pass"] for s in steps] == ["prune", "prune", "simplify", "fuse", "cluster", "quantize"]


def test_a_float_space_is_described_as_before():  # studies made before int8 inputs were handled still match
    space, _ = spaces.make_space(["quantize"], ["input"])
    assert "int8_archs" not in space.describe()
