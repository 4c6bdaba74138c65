"""Config dataclasses declared with `param`: each field's help, recipe name and search values beside it; the
listing `edgeshrink passes` shows; a recipe step's parameters checked and built into the config (nested configs
such as FineTune set flat); the config as a recipe step's parameters again.

Used by every pass's config, FineTune and the zoo's TrainConfig; it knows nothing of passes, so the configs
below the passes (FineTune) can use it without importing them.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from dataclasses import dataclass, field
from typing import Any


def param(default: Any, help: str, key: str | None = None, search: tuple | dict | None = None) -> Any:
    """A config field with its help text, which `edgeshrink passes` shows; `key`: its recipe name where that is
    not the field's (a field of a nested config, such as FineTune's `epochs`, is `finetune_epochs` in a recipe);
    `search`: the values `edgeshrink search` tries (a dict: by the value of the setting they depend on)."""
    return field(default=default, metadata={"help": help, "key": key, "search": search})


@dataclass(frozen=True)
class Parameter:
    """One parameter of a pass, as `edgeshrink passes` lists it."""

    name: str
    values: str  # "static | dynamic", "number", ...
    default: Any
    help: str


@dataclass(frozen=True)
class _Key:
    """One recipe parameter of a config: its field, and the nested config field holding it (or None)."""

    name: str
    field: dataclasses.Field
    hint: Any
    nested: dataclasses.Field | None = None


def _keys(config_type: type) -> list[_Key]:
    """A config's recipe parameters in order; a nested config's (a field whose default is a dataclass, such as
    FineTune) are listed in its place, under their own recipe names: recipes stay flat."""
    hints, out = typing.get_type_hints(config_type), []
    for f in dataclasses.fields(config_type):
        if dataclasses.is_dataclass(f.default):
            inner = typing.get_type_hints(type(f.default))
            out += [_Key(g.metadata.get("key") or g.name, g, inner[g.name], f) for g in dataclasses.fields(f.default)]
        else:
            out.append(_Key(f.metadata.get("key") or f.name, f, hints[f.name]))
    return out


def _default(key: _Key) -> Any:
    return getattr(key.nested.default, key.field.name) if key.nested else key.field.default


def parameters(config_type: type) -> list[Parameter]:
    """The parameters of a pass's config dataclass as a recipe names them, with the values each takes, its
    default and its help."""
    return [Parameter(k.name, _values(k.hint), _default(k), k.field.metadata.get("help", ""))
            for k in _keys(config_type)]


def search_choices(config_type: type, name: str) -> tuple | dict:
    """The values `edgeshrink search` tries for the recipe parameter `name`, as its field declares them."""
    found = next(k for k in _keys(config_type) if k.name == name).field.metadata.get("search")
    if found is None:
        raise ValueError(f"{config_type.__name__}.{name} declares no search values")
    return found


def recipe_params(config: Any) -> dict[str, Any]:
    """A config as a recipe step's parameters (nested configs flattened), as reports record them."""
    out = {}
    for k in _keys(type(config)):
        owner = getattr(config, k.nested.name) if k.nested else config
        out[k.name] = dataclasses.asdict(owner)[k.field.name]
    return out


def _values(hint: Any) -> str:
    if typing.get_origin(hint) is typing.Literal:
        return " | ".join(map(str, typing.get_args(hint)))
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        given = " or ".join(_values(a) for a in args if a is not type(None))  # e.g. sparsity: number or auto
        return f"{given} or null" if type(None) in args else given
    return {bool: "true | false", int: "whole number", float: "number", str: "text"}.get(hint, str(hint))


def check_choices(config: Any) -> None:
    """Raise ValueError if a Literal field of `config` holds a value outside its choices (the recipe
    loader checks them too; this covers configs built directly in Python)."""
    hints = typing.get_type_hints(type(config))
    for f in dataclasses.fields(config):
        if typing.get_origin(hints[f.name]) is typing.Literal:
            _coerce(f.name, getattr(config, f.name), hints[f.name])


def build_config(config_type: type, params: dict[str, Any]) -> Any:
    """Turn a recipe step's parameters into the pass's frozen config dataclass.

    Raises ValueError with a readable reason; the recipe adds the step's position.
    """
    keys = {k.name: k for k in _keys(config_type)}
    unknown = sorted(set(params) - set(keys))
    if unknown:
        raise ValueError(f"unknown parameter(s) {', '.join(unknown)}; known: {', '.join(keys) or 'none'}")
    values, nested = {}, {}
    for name, value in params.items():
        k = keys[name]
        if k.nested:
            nested.setdefault(k.nested, {})[k.field.name] = _coerce(name, value, k.hint)
        else:
            values[k.field.name] = _coerce(name, value, k.hint)
    for f, given in nested.items():
        values[f.name] = dataclasses.replace(f.default, **given)  # the pass's own defaults for the rest
    return config_type(**values)  # __post_init__ checks ranges and raises ValueError


def _coerce(name: str, value: Any, hint: Any) -> Any:
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        choices = typing.get_args(hint)
        if value not in choices:
            raise ValueError(f"{name} must be one of {', '.join(map(str, choices))}, not {value!r}")
        return value
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            return None
        errors = []
        for arg in args:  # e.g. sparsity: a number or 'auto'
            try:
                return _coerce(name, value, arg)
            except ValueError as exc:
                errors.append(str(exc).removeprefix(f"{name} must be ").rsplit(", not ", 1)[0])
        raise ValueError(f"{name} must be {' or '.join(errors)}, not {value!r}")
    if hint is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false, not {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} must be a whole number, not {value!r}")
        return value
    if hint is float:
        if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
            value = float(value)  # YAML 1.1 reads 5e-4 (no dot in the mantissa) as text
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{name} must be a number, not {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ValueError(f"{name} must be text, not {value!r}")
        return value
    return value


_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
