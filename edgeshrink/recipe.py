"""Recipes: an ordered list of pass steps, read from YAML and validated as a whole before anything runs."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from edgeshrink.errors import RecipeError
from edgeshrink.params import build_config, recipe_params
from edgeshrink.passes import REGISTRY
from edgeshrink.passes.base import PassSpec

# Package data: the recipes ship inside the package, so a wheel install finds them like a checkout does.
RECIPES_DIR = Path(str(resources.files("edgeshrink") / "recipes"))
STEP_OPTIONS = ("skip_if_worse",)  # options of the step itself, not of its pass
SKIP_IF_WORSE = ("larger", "slower")  # besides true (either) and false
# Which latency judges a step "slower": the page's runtime (the compiled wasm, in Node) where both models compile,
# else native onnxruntime; or native onnxruntime always, for models deployed natively.
LATENCIES = ("edge", "native")


@dataclass(frozen=True)
class Step:
    """One validated step: its 1-based position, the pass and its typed config."""

    position: int
    spec: PassSpec
    config: Any
    skip_if_worse: bool | str = False  # True, "larger" or "slower": drop a step's model that is worse than its input

    @property
    def name(self) -> str:
        return self.spec.name

    def params(self) -> dict[str, Any]:
        return recipe_params(self.config)


@dataclass(frozen=True)
class Recipe:
    name: str
    description: str
    steps: tuple[Step, ...]
    latency: str = "edge"  # one of LATENCIES


def recipe_path(name_or_path: str) -> Path:
    """A shipped recipe name (edgeshrink/recipes/NAME.yaml) or a path to a YAML file."""
    path = Path(name_or_path)
    candidate = RECIPES_DIR / f"{name_or_path}.yaml"
    if path.suffix not in (".yaml", ".yml") and not path.is_file() and candidate.is_file():
        return candidate  # a shipped name, even beside a folder of that name (an earlier run's output, say)
    if path.is_dir():
        raise RecipeError(f"recipe {path} is a folder; pass a shipped name ({', '.join(shipped())}) or a .yaml file")
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise RecipeError(f"recipe file {path} does not exist; pass a shipped name ({', '.join(shipped())}) or a path")
        return path
    raise RecipeError(f"unknown recipe {name_or_path!r}; shipped recipes: {', '.join(shipped())}, or pass a .yaml path")


def shipped() -> list[str]:
    return sorted(p.stem for p in RECIPES_DIR.glob("*.yaml"))


def load(name_or_path: str, overrides: list[str] = ()) -> Recipe:
    """Read, override and validate a recipe; every problem is a RecipeError naming the step's position."""
    path = recipe_path(name_or_path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise RecipeError(f"recipe {path} is not a text file; pass a YAML recipe") from exc
    except yaml.YAMLError as exc:
        raise RecipeError(f"recipe {path} is not valid YAML: {str(exc).splitlines()[0]}; fix the file") from exc
    raw_steps = _raw_steps(doc, path)
    for override in overrides:
        _apply_override(raw_steps, override)
    return parse(doc.get("name", path.stem), doc.get("description", ""), raw_steps, doc.get("latency", "edge"))


def _raw_steps(doc: Any, path: Path) -> list[dict[str, Any]]:
    if not isinstance(doc, dict) or not isinstance(doc.get("steps"), list) or not doc["steps"]:
        raise RecipeError(f"recipe {path} needs a non-empty 'steps:' list; see 'edgeshrink recipes' and edgeshrink/recipes/default.yaml")
    steps = []
    for i, step in enumerate(doc["steps"], 1):
        if not isinstance(step, dict) or "pass" not in step:
            raise RecipeError(f"recipe {path}, step {i}: each step is a mapping with a 'pass:' key, got {step!r}")
        steps.append(dict(step))
    return steps


def parse_override(override: str) -> tuple[str, str, Any]:
    """'quantize.calibration_images=200' -> ('quantize', 'calibration_images', 200): step, parameter, YAML value."""
    target, sep, value = override.partition("=")
    step_ref, dot, param = target.partition(".")
    if not sep or not dot or not param:
        raise RecipeError(f"override {override!r} is not STEP.PARAM=VALUE (e.g. quantize.calibration_images=200)")
    try:
        return step_ref, param, yaml.safe_load(value)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or " ".join(str(exc).split())
        raise RecipeError(f"override {override!r}: the value is not valid YAML ({problem}); quote or fix it, "
                          "e.g. {param}=200 or {param}=[1, 2]".replace("{param}", param)) from exc


def _apply_override(steps: list[dict[str, Any]], override: str) -> None:
    """'quantize.calibration_images=200' or '1.sparsity=0.6' (position), value read as YAML."""
    step_ref, param, value = parse_override(override)
    if step_ref.isdigit():
        matches = [int(step_ref) - 1] if 0 < int(step_ref) <= len(steps) else []
    else:
        matches = [i for i, s in enumerate(steps) if s["pass"] == step_ref]
    if len(matches) != 1:
        found = "no" if not matches else "several"
        raise RecipeError(f"override {override!r} matches {found} step(s); name the step by its position, e.g. 2.{param}=...")
    steps[matches[0]][param] = value


def parse(name: str, description: str, raw_steps: list[dict[str, Any]], latency: str = "edge") -> Recipe:
    """Validate raw steps into a Recipe: known passes, typed parameters, a safe order."""
    if latency not in LATENCIES:
        raise RecipeError(f"recipe {name!r}: latency must be {' or '.join(LATENCIES)} (which latency judges a step "
                          f"slower), not {latency!r}")
    steps = []
    for position, raw in enumerate(raw_steps, 1):
        params = {k: v for k, v in raw.items() if k != "pass" and k not in STEP_OPTIONS}
        try:
            spec = REGISTRY.get(raw["pass"])
            config = build_config(spec.config, params)
            skip = raw.get("skip_if_worse", False)
            if not isinstance(skip, bool) and skip not in SKIP_IF_WORSE:
                raise ValueError(f"skip_if_worse must be true, false, {' or '.join(SKIP_IF_WORSE)}, not {skip!r}")
        except (RecipeError, ValueError, TypeError) as exc:
            raise RecipeError(f"recipe {name!r}, step {position} ({raw['pass']}): {exc}") from exc
        steps.append(Step(position, spec, config, skip))
    recipe = Recipe(name, description, tuple(steps), latency)
    check_order(recipe)
    return recipe


def check_order(recipe: Recipe) -> None:
    """Refuse float passes after quantization (onnxsim issue 216), quantizing twice, passes that
    change weights after cluster (they would undo the sharing), and any step after one that must be last."""
    quantized_at = shared_at = None
    for step in recipe.steps:
        if quantized_at and step.spec.quantizes:
            raise RecipeError(
                f"recipe {recipe.name!r}, step {step.position} ({step.name}): the model is already quantized by "
                f"step {quantized_at}; quantize once, as the last step"
            )
        if quantized_at and step.spec.float_only:
            raise RecipeError(
                f"recipe {recipe.name!r}, step {step.position} ({step.name}) comes after quantize (step {quantized_at}): "
                f"{step.name} would unfold the int8 weights back to float (onnxsim issue 216); move it before quantize"
            )
        if shared_at and step.spec.reweights:
            raise RecipeError(
                f"recipe {recipe.name!r}, step {step.position} ({step.name}) comes after cluster (step {shared_at}): "
                f"{step.name} would change the shared weights (fine-tuning, folding) and undo the sharing; "
                "move it before cluster"
            )
        if step.spec.last and step is not recipe.steps[-1]:
            raise RecipeError(f"recipe {recipe.name!r}, step {step.position} ({step.name}) must be the last step: "
                              f"the passes after it read plain weights; move it to the end")
        if step.spec.quantizes:
            quantized_at = step.position
        if step.spec.shares:
            shared_at = step.position
