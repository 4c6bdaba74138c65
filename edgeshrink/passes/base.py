"""What every pass shares: the context it runs in, how it is described, and how its config is built."""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Callable

import onnx

from edgeshrink.data import Split
from edgeshrink.errors import PassError
from edgeshrink.core.model import graph_inputs
from edgeshrink.progress import Track, no_progress
from edgeshrink.core.signature import Signature


@dataclass
class PassContext:
    """What a pass may use besides the model: how to feed it, training images, a progress reporter.

    Passes use only `train` (never the test set) for calibration and fine-tuning. A pass that searches
    (prune's `sparsity: auto`) checks candidates on `validation`, training images held out of `train`,
    against `reference` (the run's input model), losing at most `allowed_drop` points.
    """

    signature: Signature
    train: Split
    track: Track = no_progress
    seed: int = 0
    notes: list[str] = field(default_factory=list)  # what a pass wants the report to say (e.g. a skip)
    validation: Split | None = None
    reference: onnx.ModelProto | None = None
    allowed_drop: float | None = None  # percentage points against `reference` on `validation`


@dataclass(frozen=True)
class PassSpec:
    """A registered pass: its recipe name, config type, run function, and what recipe validation must
    know about it."""

    name: str
    config: type
    run: Callable[[onnx.ModelProto, Any, PassContext], onnx.ModelProto]
    summary: str
    quantizes: bool = False  # produces int8 weights: nothing that refolds floats may follow it
    float_only: bool = False  # works on float weights only: it would unfold or break int8 ones
    shares: bool = False  # leaves each layer a few shared weight values (cluster)
    reweights: bool = False  # changes weight values (training, folding): would undo an earlier sharing
    # float_only, but worth trying on an int8 input: the pipeline keeps its model only if no int8 weight
    # came out as float again (graph clean-ups that may also fold a DequantizeLinear)
    tried_on_int8: bool = False


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
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return f"{_values(args[0])} or null"
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


def restore_interface(out: onnx.ModelProto, original: onnx.ModelProto, tool: str, name: str) -> onnx.ModelProto:
    """Give `out` the original's metadata (the signature, not the tool's bookkeeping) and check that
    `tool` kept the input and output names, which the pipeline, the manifest and the page rely on."""
    del out.metadata_props[:]
    out.metadata_props.extend(original.metadata_props)
    before = ([i.name for i in graph_inputs(original)], [o.name for o in original.graph.output])
    after = ([i.name for i in graph_inputs(out)], [o.name for o in out.graph.output])
    if before != after:
        raise PassError(f"{tool} renamed the inputs or outputs of {name} ({before} -> {after})")
    return out
