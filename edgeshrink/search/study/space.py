"""The search space: recipe steps built as data from a trial's choices, validated like any recipe.

Each dimension group adds its steps (or nothing, when the trial picks "none") to a list of raw recipe
steps; `recipe.parse` then validates them into the same Recipe `edgeshrink optimize` runs, and
`to_yaml` writes the file that reproduces the trial with `edgeshrink optimize --recipe FILE`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import yaml

from edgeshrink.errors import SearchError
from edgeshrink.finetune.config import FineTune
from edgeshrink.params import search_choices
from edgeshrink.passes import REGISTRY
from edgeshrink.recipe import Recipe, parse

INPUT_ARCH = "input"  # the arch choice that means "the model given on the command line"
SEED = 0  # passes run with this seed, as `edgeshrink optimize` does, so a recipe file reproduces its trial


@dataclass(frozen=True)
class Space:
    """What a study searches: dimension groups by name, architectures, and the training images passes see."""

    groups: tuple[str, ...]
    archs: tuple[str, ...] = (INPUT_ARCH,)
    train_images: int = 55000  # fine-tuning and calibration use the first N; the rest validate
    max_finetune_epochs: float = 2.0
    int8_archs: tuple[str, ...] = ()  # starting models already quantized: their trials skip int8_reason groups

    def describe(self) -> dict[str, Any]:
        out = {"groups": list(self.groups), "archs": list(self.archs), "train_images": self.train_images,
               "max_finetune_epochs": self.max_finetune_epochs}
        return {**out, "int8_archs": list(self.int8_archs)} if self.int8_archs else out


def _choices(config: str | type, param: str, *, off=None, within: str | None = None) -> list:
    """A parameter's search values as its config (a pass's, by name) declares them (`within`: those for that value
    of the setting they depend on), after `off`, the group's choice of no step at all."""
    found = search_choices(REGISTRY.get(config).config if isinstance(config, str) else config, param)
    found = found[within] if within else found
    return ([] if off is None else [off]) + list(found)


def _structured(trial, space: Space) -> list[dict]:
    sparsity = trial.suggest_categorical("structured_sparsity", _choices("prune", "sparsity", within="structured"))
    if not sparsity:
        return []
    return [{"pass": "prune", "method": "structured", "sparsity": sparsity, **_finetune(trial, space)}]


def _unstructured(trial, space: Space) -> list[dict]:
    sparsity = trial.suggest_categorical("unstructured_sparsity",
                                         _choices("prune", "sparsity", within="unstructured"))
    if not sparsity:
        return []
    return [{"pass": "prune", "method": "unstructured", "sparsity": sparsity, "scope": "global",
             **_finetune(trial, space)}]


def _finetune(trial, space: Space) -> dict:
    """Shared by the prune and cluster steps: one choice of fine-tuning effort per trial."""
    epochs = ([e for e in _choices(FineTune, "finetune_epochs") if e <= space.max_finetune_epochs]
              or [space.max_finetune_epochs])
    return {"finetune_epochs": trial.suggest_categorical("finetune_epochs", epochs),
            "distill": trial.suggest_categorical("distill", _choices(FineTune, "distill")),
            "finetune_images": space.train_images}


def _cluster(trial, space: Space) -> list[dict]:
    bits = trial.suggest_categorical("cluster_bits", _choices("cluster", "bits", off=0))
    return [{"pass": "cluster", "bits": bits, **_finetune(trial, space)}] if bits else []


def _quantize(trial, space: Space) -> list[dict]:
    mode = trial.suggest_categorical("quantize", _choices("quantize", "mode", off="none"))
    if mode == "none":
        return []
    step = {"pass": "quantize", "mode": mode,
            "per_channel": trial.suggest_categorical("per_channel", _choices("quantize", "per_channel"))}
    if mode == "static":
        step["format"] = trial.suggest_categorical("format", _choices("quantize", "format"))
        step["calibration"] = trial.suggest_categorical("calibration", _choices("quantize", "calibration"))
        images = trial.suggest_categorical("calibration_images", _choices("quantize", "calibration_images"))
        step["calibration_images"] = min(images, space.train_images)
    return [step]


def _fixed(trial, space: Space) -> list[dict]:
    return [{"pass": "simplify"}, {"pass": "fuse"}]  # cheap and never worse: always part of a trial


@dataclass(frozen=True)
class Group:
    """A named dimension group: the pass it needs, and how it turns a trial's choices into steps."""

    name: str
    needs: str
    summary: str
    suggest: Callable[[Any, Space], list[dict]]


# In recipe order: pruning before the float passes, weight sharing after fusion, quantization last.
GROUPS = (
    Group("structured", "prune", "structured pruning: share of channels removed, fine-tuning, distillation", _structured),
    Group("unstructured", "prune", "unstructured pruning: share of weights zeroed (global)", _unstructured),
    Group("fixed", "fuse", "simplify and fuse (always on)", _fixed),
    Group("cluster", "cluster", "weight sharing: bits per weight index", _cluster),
    Group("quantize", "quantize", "int8: none/dynamic/static, format, per-channel, calibration", _quantize),
)
SEARCHABLE = tuple(g.name for g in GROUPS if g.name != "fixed")


def available() -> dict[str, str]:
    """Searchable group name -> why it is unavailable ('' when it is): a pass may not be registered yet."""
    names = REGISTRY.names()
    return {g.name: "" if g.needs in names else f"the {g.needs!r} pass is not registered in this version"
            for g in GROUPS if g.name != "fixed"}


def int8_reason(name: str) -> str:
    """Why a group cannot change an already-int8 model ('' when it can), from its pass's registration: the
    steps `optimize` skips on such a model."""
    spec = REGISTRY.get(next(g.needs for g in GROUPS if g.name == name))
    if spec.quantizes:
        return f"{spec.name} has nothing left to do"
    return f"{spec.name} needs float weights" if spec.float_only and not spec.tried_on_int8 else ""


def make_space(groups: list[str], archs: list[str], *, train_images: int = 55000, max_finetune_epochs: float = 2.0,
               int8_archs: tuple[str, ...] = ()) -> tuple[Space, list[str]]:
    """A checked Space and notes on groups left out; an empty space or unknown name is a SearchError.

    `int8_archs` are starting models already quantized: groups that cannot change them are left out of the
    space when every starting model is one, else out of those models' trials only."""
    unknown = [g for g in groups if g not in SEARCHABLE]
    if unknown:
        raise SearchError(f"unknown search dimension(s) {', '.join(unknown)}; choose from {', '.join(SEARCHABLE)}")
    reasons = available()
    notes = [f"dimension {g} left out: {reasons[g]}" for g in groups if reasons[g]]
    usable = tuple(g for g in SEARCHABLE if g in groups and not reasons[g])
    blocked = ", ".join(f"{g} ({int8_reason(g)})" for g in usable if int8_reason(g)) if int8_archs else ""
    if blocked and set(archs) <= set(int8_archs):
        usable = tuple(g for g in usable if not int8_reason(g))
        if not usable and len(archs) < 2:
            raise SearchError(f"the input model is already int8, so there is nothing to search: {blocked}; pass "
                              "the float model it was made from, or --arch to search edgeshrink's architectures")
        notes.append(f"the input model is already int8: the search leaves out {blocked}, as optimize skips them")
    elif blocked:
        notes.append(f"the input model is already int8: its trials leave out {blocked}; the other models' "
                     "trials search them")
    if not usable and len(archs) < 2:
        given = ",".join(groups) or "(none)"
        raise SearchError(f"the search space is empty: no dimension to vary (--space {given}) and at most "
                          "one architecture; "
                          f"pass --space with some of {', '.join(SEARCHABLE)} or several --arch")
    if max_finetune_epochs <= 0:
        raise SearchError(f"--max-finetune-epochs must be greater than 0, not {max_finetune_epochs}")
    return Space(usable, tuple(archs), train_images, max_finetune_epochs, tuple(int8_archs)), notes


def suggest(trial, space: Space) -> tuple[str, list[dict]]:
    """The trial's architecture and raw recipe steps, sampled in recipe order."""
    arch = trial.suggest_categorical("arch", list(space.archs)) if len(space.archs) > 1 else space.archs[0]
    steps = []
    for group in GROUPS:
        if _searched(group.name, arch, space):
            steps.extend(group.suggest(trial, space))
    return arch, steps


def _searched(group: str, arch: str, space: Space) -> bool:
    if group == "fixed":
        return True
    return group in space.groups and not (arch in space.int8_archs and int8_reason(group))


def build(name: str, steps: list[dict]) -> Recipe:
    """Validate raw steps into the Recipe `optimize` would run."""
    return parse(name, "found by edgeshrink search", steps)


def to_yaml(name: str, description: str, steps: list[dict]) -> str:
    return yaml.safe_dump({"name": name, "description": description, "steps": steps}, sort_keys=False)
