"""Load and save ONNX models with clear errors, and read the facts evaluation reports about them."""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import onnx
from onnx import numpy_helper

from edgeshrink.atomic import atomic_path
from edgeshrink.core import repair
from edgeshrink.core.signature import METADATA_KEY, Signature
from edgeshrink.errors import ModelError
from edgeshrink.packing import unpacked


@dataclass(frozen=True)
class Loaded:
    """A model as onnxruntime sees it, and what edgeshrink repaired to make onnx.checker accept it."""

    model: onnx.ModelProto
    repairs: list[str] = field(default_factory=list)


def load(path: str | os.PathLike) -> onnx.ModelProto:
    """Read an ONNX file (external data included, repairable defects repaired) or raise ModelError."""
    return read(path).model


def read(path: str | os.PathLike) -> Loaded:
    """Read an ONNX file as `load` does, keeping the list of repairs for the user to see."""
    path = Path(path)
    if path.is_dir():
        inside = sorted(p.name for p in path.glob("*.onnx"))[:3]
        hint = f" (it holds {', '.join(inside)})" if inside else ""
        raise ModelError(f"{path} is a folder, not a model file{hint}; pass the .onnx file itself")
    if not path.is_file():
        raise ModelError(f"model file {path} does not exist; check the path")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf raises several unrelated types for garbage input
        raise ModelError(f"{path} is not an ONNX model ({type(exc).__name__}); pass a .onnx file") from exc
    if not model.graph.node or not model.graph.output:
        raise ModelError(f"{path} is not an ONNX model (no graph nodes or outputs); pass a .onnx file")
    _load_external_data(model, path)
    model, repairs = repair.repair(model)
    repair.check_finite(model, str(path))
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as exc:
        reason = str(exc).strip().splitlines()[0]
        _runs_anyway(model, path, reason)
        repairs.append(f"onnx.checker rejects it ({reason}), but onnxruntime runs it")
    return Loaded(model, repairs)


def _load_external_data(model: onnx.ModelProto, path: Path) -> None:
    """Read weights stored beside the model, naming a missing file instead of failing on it."""
    from onnx.external_data_helper import ExternalDataInfo, load_external_data_for_model, uses_external_data

    tensors = list(model.graph.initializer) + [a.t for n in model.graph.node for a in n.attribute if a.HasField("t")]
    locations = sorted({ExternalDataInfo(t).location for t in tensors if uses_external_data(t)})
    if not locations:
        return
    missing = [loc for loc in locations if not (path.parent / loc).is_file()]
    if missing:
        raise ModelError(f"{path} keeps its weights in {', '.join(missing)}, which is missing beside it; copy "
                         f"{missing[0]} into {path.parent}")
    try:
        load_external_data_for_model(model, str(path.parent))
    except Exception as exc:
        first = str(exc).strip().splitlines()[0]
        raise ModelError(f"{path}: its external weights in {', '.join(locations)} cannot be read ({first}); "
                         "copy the files again from where the model came from") from exc


def _runs_anyway(model: onnx.ModelProto, path: Path, reason: str) -> None:
    """Accept what onnx.checker rejects only if onnxruntime can run it (opened here, not through `inference`,
    which stands above this module)."""
    from edgeshrink import engine

    try:
        engine.open_session(model, exact=is_quantized(model))
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph/NotImplemented types
        first = str(exc).strip().splitlines()[0]
        raise ModelError(f"{path} is not a valid ONNX model ({reason}) and onnxruntime cannot load the model: "
                         f"{first}; re-export it") from exc


def load_own(path: str | os.PathLike) -> onnx.ModelProto:
    """Read a model file edgeshrink wrote itself (a run's steps, a trial, a trained architecture): it was
    repaired and checked before it was saved, so neither is done again."""
    try:
        return onnx.load(str(path))
    except FileNotFoundError as exc:
        raise ModelError(f"model file {path} does not exist; run the command that writes it again") from exc
    except Exception as exc:  # protobuf raises several unrelated types for a damaged file
        raise ModelError(f"{path} is not the ONNX model edgeshrink wrote ({type(exc).__name__}); "
                         "run the command that writes it again") from exc


def save(model: onnx.ModelProto, path: str | os.PathLike) -> Path:
    """Write `model` to `path` atomically (a crash never leaves a half-written .onnx)."""
    with atomic_path(path) as tmp:
        onnx.save(model, str(tmp))
    return Path(path)


def graph_inputs(model: onnx.ModelProto) -> list[onnx.ValueInfoProto]:
    """The real inputs: old exporters (CNTK, opset < 9) also list every initializer as an input."""
    initializers = {init.name for init in model.graph.initializer}
    return [inp for inp in model.graph.input if inp.name not in initializers]


def describe(model: onnx.ModelProto) -> str:
    """How messages name a model: by its graph name when it has one."""
    return f"model {model.graph.name!r}" if model.graph.name else "the model"


def stored_signature(model: onnx.ModelProto) -> Signature | None:
    for prop in model.metadata_props:
        if prop.key == METADATA_KEY:
            try:
                return Signature.from_json(prop.value)
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                raise ModelError(f"the model's metadata {METADATA_KEY} is unreadable ({type(exc).__name__}); "
                                 "remove it, or pass --preprocess to say how to feed the model") from exc
    return None


def clone(model: onnx.ModelProto) -> onnx.ModelProto:
    """A deep copy, so that nothing a pass or a third-party tool does can reach the caller's model."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    return out


def with_signature(model: onnx.ModelProto, signature: Signature) -> onnx.ModelProto:
    """A copy of `model` that records `signature` in its metadata_props."""
    out = clone(model)
    keep = [p for p in out.metadata_props if p.key != METADATA_KEY]
    del out.metadata_props[:]
    out.metadata_props.extend(keep)
    out.metadata_props.add(key=METADATA_KEY, value=signature.to_json())
    return out


# Inputs of quantized operators that hold scales and zero points rather than weights.
_QUANT_PARAM_INPUTS = {
    "QuantizeLinear": {1, 2},
    "DequantizeLinear": {1, 2},
    "QLinearConv": {1, 2, 4, 5, 6, 7},
    "QLinearMatMul": {1, 2, 4, 5, 6, 7},
    "QLinearAdd": {1, 2, 4, 5, 6, 7},
    "QLinearMul": {1, 2, 4, 5, 6, 7},
    "QGemm": {1, 2, 4, 5, 7, 8},
    "MatMulInteger": {2, 3},
    "ConvInteger": {2, 3},
    "DynamicQuantizeMatMul": {2, 3},
}


def _weight_initializers(model: onnx.ModelProto) -> list[onnx.TensorProto]:
    """All initializers but quantization scales and zero points, so quantizing keeps the count."""
    quant_params = set()
    for node in model.graph.node:
        positions = _QUANT_PARAM_INPUTS.get(node.op_type, set())
        quant_params.update(name for i, name in enumerate(node.input) if i in positions)
    return [
        init for init in model.graph.initializer
        if init.name not in quant_params
    ]


def count_params(model: onnx.ModelProto) -> tuple[int, int]:
    """(total, non-zero) initializer elements, the way the peers' manifest counts parameters."""
    total = nonzero = 0
    for init in _weight_initializers(unpacked(model)):  # a packed layer counts its weights, not its codes
        array = numpy_helper.to_array(init)
        total += array.size
        nonzero += int((array != 0).sum())
    return total, nonzero


def op_histogram(model: onnx.ModelProto) -> dict[str, int]:
    return dict(Counter(node.op_type for node in model.graph.node).most_common())


def opset(model: onnx.ModelProto) -> int:
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)


def is_quantized(model: onnx.ModelProto) -> bool:
    """True if the model already holds int8 arithmetic (QDQ pairs or QLinear/Integer operators)."""
    return any(node.op_type in _QUANT_PARAM_INPUTS or node.op_type == "DynamicQuantizeLinear"
               for node in model.graph.node)
