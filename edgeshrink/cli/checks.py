"""Option values edgeshrink checks itself, as usage errors (exit 2) before any work starts.

Each callback asks the library's own rule or list (architectures, profiles, runtimes, search dimensions,
recipes, preprocessing), so a choice is written once; typer prints "Invalid value for '--option': reason".
Values known bad only after reading a file (a recipe's content, a model) stay errors of exit code 1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import typer

from edgeshrink.errors import EdgeshrinkError


def names(text: str) -> tuple[str, ...]:
    """A comma-separated option value as its names, blanks dropped."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def above(low: float) -> Callable:
    """A callback refusing numbers not greater than `low` (click's ranges only have inclusive bounds here)."""
    def check(value):
        if value is not None and not value > low:
            raise typer.BadParameter(f"must be greater than {low:g}, not {value:g}")
        return value
    return check


def _one_of(value: str, choices: Iterable[str]) -> str:
    choices = list(choices)
    if value not in choices:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(choices)}")
    return value


def runtime(value: str) -> str:
    from edgeshrink.web.assemble.placement import RUNTIMES

    return _one_of(value, RUNTIMES)


def build(value: str) -> str:
    from edgeshrink.runtime.compiler import BUILDS

    return _one_of(value, BUILDS)


def profile(value: str) -> str:
    from edgeshrink.web.check.timing import PROFILES

    return _one_of(value, PROFILES)


def profiles(value: str) -> str:
    from edgeshrink.web.check.timing import PROFILES

    for name in names(value):
        _one_of(name, PROFILES)
    return value


def dimensions(value: str) -> str:
    from edgeshrink.search.study.space import SEARCHABLE

    for name in names(value):
        _one_of(name, SEARCHABLE)
    return value


def storage(value: str | None) -> str | None:
    """A database URL more than one process can share (reaching it is checked later, as exit code 1)."""
    from edgeshrink.search.study.storage import check_storage

    if value is not None:
        _library(check_storage, value)
    return value


def arch(value: str) -> str:
    """One architecture, NAME or NAME@W, in its canonical spelling."""
    from edgeshrink import zoo

    return _library(zoo.canonical, value)


def archs(value: str) -> str:
    from edgeshrink import zoo

    for name in names(value):
        _library(zoo.parse, name)
    return value


def recipe(value: str) -> str:
    """A shipped recipe name, or a path (a missing or malformed file is an error of exit code 1 later)."""
    from pathlib import Path

    from edgeshrink import recipe as recipes

    if Path(value).suffix in (".yaml", ".yml") or Path(value).exists():
        return value
    _library(recipes.recipe_path, value)
    return value


def recipes(value: str) -> str:
    for name in names(value):
        recipe(name)
    return value


def overrides(values: list[str] | None) -> list[str] | None:
    from edgeshrink import recipe as recipes

    for text in values or []:
        _library(recipes.parse_override, text)
    return values


def preprocess(value: str | None) -> str | None:
    from edgeshrink.core.signature import Preprocess

    if value is not None:
        _library(Preprocess.parse, value)
    return value


def _library(rule: Callable, value):
    """`rule(value)`, its EdgeshrinkError (one line naming the fix) becoming the usage error."""
    try:
        return rule(value)
    except EdgeshrinkError as exc:
        raise typer.BadParameter(str(exc)) from None
