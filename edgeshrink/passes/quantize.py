"""Quantize: int8 weights, and with calibration on training images int8 activations too.

Wraps onnxruntime.quantization's path-in/path-out functions once. The defaults target
onnxruntime-web: static QDQ (int8 symmetric weights per channel, uint8 activations) on Conv, MatMul
and Gemm only. onnxruntime fuses the QDQ pairs into QLinearConv/QLinearMatMul when a session starts,
in Python and in the browser alike, and every other operator keeps running in float.
"""

from __future__ import annotations

import contextlib
import io
import logging
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Literal

import onnx
from onnx import numpy_helper

from edgeshrink.errors import PassError
from edgeshrink.model import graph_inputs, is_quantized, opset
from edgeshrink.passes.base import PassContext, PassSpec, restore_interface

QUANTIZED_OPS = ("Conv", "MatMul", "Gemm")  # the layers that hold the weights; the rest stays float
MIN_OPSET = 13  # per-channel QuantizeLinear/DequantizeLinear (their axis attribute) need opset 13
MAX_CALIBRATION_IMAGES = 60000
_CHOICES = {
    "mode": ("static", "dynamic"),
    "format": ("QDQ", "QOperator"),
    "calibration": ("MinMax", "Entropy", "Percentile"),
    "weight_type": ("int8", "uint8"),
    "activation_type": ("uint8", "int8"),
}


@dataclass(frozen=True)
class QuantizeConfig:
    """How to quantize. `dynamic` needs no calibration: it ignores format, calibration* and activation_type."""

    mode: Literal["static", "dynamic"] = "static"
    format: Literal["QDQ", "QOperator"] = "QDQ"  # QDQ: standard ops only, fused by onnxruntime at load
    per_channel: bool = True  # one weight scale per output channel: better accuracy, same bytes
    calibration: Literal["MinMax", "Entropy", "Percentile"] = "MinMax"
    calibration_images: int = 500  # training images whose activations set the static ranges
    weight_type: Literal["int8", "uint8"] = "int8"  # int8 weights are quantized symmetrically
    activation_type: Literal["uint8", "int8"] = "uint8"  # uint8 suits ReLU outputs and u8s8 kernels
    preprocess: bool = True  # onnxruntime's quant_pre_process folds constants, so more weights quantize
    float_scores: bool = True  # never round the class scores to 8 bits: close logits would tie

    def __post_init__(self):
        for name, choices in _CHOICES.items():
            if getattr(self, name) not in choices:
                raise ValueError(f"{name} must be one of {', '.join(choices)}, not {getattr(self, name)!r}")
        if isinstance(self.calibration_images, bool) or not isinstance(self.calibration_images, int):
            raise ValueError(f"calibration_images must be a whole number, not {self.calibration_images!r}")
        if not 0 < self.calibration_images <= MAX_CALIBRATION_IMAGES:
            raise ValueError(
                f"calibration_images must be between 1 and {MAX_CALIBRATION_IMAGES} (the training set), "
                f"not {self.calibration_images}"
            )
        check_type_pair(self)


def check_type_pair(cfg: QuantizeConfig) -> None:
    """onnxruntime has no kernels for int8 activations with uint8 weights."""
    if cfg.mode == "static" and cfg.activation_type == "int8" and cfg.weight_type == "uint8":
        raise ValueError("activation_type int8 needs weight_type int8 (onnxruntime has no int8 x uint8 kernels)")


def run(model: onnx.ModelProto, cfg: QuantizeConfig, ctx: PassContext) -> onnx.ModelProto:
    """A quantized copy of `model` with the same inputs, outputs and metadata."""
    if is_quantized(model):
        ctx.notes.append("quantize skipped: the model is already quantized")
        return _copy(model)
    with tempfile.TemporaryDirectory(prefix="edgeshrink-quantize-") as tmp:
        source, target = Path(tmp) / "float.onnx", Path(tmp) / "quantized.onnx"
        onnx.save(_upgrade(model), str(source))
        if cfg.preprocess:
            source = _preprocess(source, Path(tmp) / "preprocessed.onnx", ctx)
        prepared = _tidy(onnx.load(str(source)))
        onnx.save(prepared, str(source))
        # The class scores stay float. Static QDQ: the score layer's Q/DQ pair is removed afterwards
        # (its weights stay int8); QOperator, or a ReLU the quantizer would fold into that pair: the
        # layer is left float. Dynamic quantization outputs float anyway.
        scores = _score_layer(prepared, ctx) if cfg.float_scores and cfg.mode == "static" else None
        unquantize = scores if cfg.format == "QDQ" and not _feeds_activation(prepared, scores) else None
        try:
            with _quiet():
                if cfg.mode == "dynamic":
                    _quantize_dynamic(source, target, cfg)
                else:
                    _quantize_static(source, target, cfg, [scores] if scores and not unquantize else [], ctx)
        except Exception as exc:  # onnxruntime.quantization raises ValueError, RuntimeError, KeyError...
            raise PassError(f"quantizing {_name(model)} failed: {_reason(exc)}") from exc
        quantized = onnx.load(str(target))
    if unquantize:
        _unquantize_output(quantized, unquantize)
    out = restore_interface(quantized, model, "quantizing", _name(model))
    if out.ByteSize() >= model.ByteSize():  # scales, zero points and Q/DQ nodes outweigh a tiny model's weights
        ctx.notes.append(f"quantize: the int8 model ({out.ByteSize():,} bytes) is not smaller than the float "
                         f"one ({model.ByteSize():,} bytes): too few weights for 8 bits to pay off")
    return out


def _copy(model: onnx.ModelProto) -> onnx.ModelProto:
    out = onnx.ModelProto()
    out.CopyFrom(model)
    return out


def _name(model: onnx.ModelProto) -> str:
    return f"model {model.graph.name!r}" if model.graph.name else "the model"


def _reason(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def _upgrade(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy at opset >= 13 whose initializers are all read and not listed as graph inputs (CNTK exports)."""
    out = _copy(model)
    if opset(out) < MIN_OPSET:
        from onnx import version_converter

        try:  # before the inputs are pruned: the converter needs IR 3 weights declared as inputs
            out = version_converter.convert_version(out, MIN_OPSET)
        except Exception as exc:  # the converter raises ConvertError/RuntimeError per adapter
            raise PassError(
                f"cannot upgrade {_name(model)} from opset {opset(out)} to {MIN_OPSET} for quantization: "
                f"{_reason(exc)}"
            ) from exc
    out.ir_version = max(out.ir_version, 7)  # opset 13 needs IR 7; IR < 4 needs weights listed as inputs
    real_inputs = graph_inputs(out)  # the quantizer leaves weights that are also inputs in float
    del out.graph.input[:]
    out.graph.input.extend(real_inputs)
    read = {name for node in out.graph.node for name in node.input}
    if not any(attr.g.node or attr.graphs for node in out.graph.node for attr in node.attribute):
        for init in [i for i in out.graph.initializer if i.name not in read]:
            out.graph.initializer.remove(init)  # else onnxruntime warns on stderr while it calibrates
    return out


def _preprocess(source: Path, target: Path, ctx: PassContext) -> Path:
    """onnxruntime's quant_pre_process, without symbolic shapes if those fail, else skipped with a note."""
    from onnxruntime.quantization.shape_inference import quant_pre_process

    reason = ""
    for skip_symbolic in (False, True):  # symbolic inference trips on some exporters' Constant nodes
        try:
            with _quiet():
                quant_pre_process(str(source), str(target), skip_symbolic_shape=skip_symbolic)
            return target
        except Exception as exc:
            reason = _reason(exc)
    ctx.notes.append(f"quantize: onnxruntime pre-processing failed ({reason}); quantized without it")
    return source


def _tidy(model: onnx.ModelProto) -> onnx.ModelProto:
    """Name every node (exclusions go by name) and make (1, N) Gemm biases vectors: the quantizer's
    per-channel bias code fails on matrices (ORT pre-processing turns MatMul + Add(1, N) into Gemm)."""
    taken = {node.name for node in model.graph.node}
    uses = Counter(name for node in model.graph.node for name in node.input)
    initializers = {init.name: init for init in model.graph.initializer}
    for index, node in enumerate(model.graph.node):
        if not node.name:
            name = f"{node.op_type}_{index}"
            while name in taken:
                name += "_"
            node.name = name
            taken.add(name)
        bias = initializers.get(node.input[2]) if node.op_type == "Gemm" and len(node.input) > 2 else None
        if bias is not None and len(bias.dims) == 2 and bias.dims[0] == 1 and uses[bias.name] == 1:
            bias.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(bias).reshape(-1), bias.name))
    return model


def _score_layer(model: onnx.ModelProto, ctx: PassContext) -> str | None:
    """The name of the Conv/MatMul/Gemm nearest the class-score output, walking back through the rest."""
    producers = {out: node for node in model.graph.node for out in node.output}
    outputs = [o.name for o in model.graph.output]
    name = ctx.signature.output_name or outputs[min(ctx.signature.output_index, len(outputs) - 1)]
    node = producers.get(name)
    while node is not None and node.op_type not in QUANTIZED_OPS:
        node = next((producers[i] for i in node.input if i in producers), None)
    return node.name if node is not None else None


def _feeds_activation(model: onnx.ModelProto, node_name: str | None) -> bool:
    """Whether the node's output goes through a ReLU or Clip, which QDQ quantization folds into its Q."""
    node = next((n for n in model.graph.node if n.name == node_name), None)
    return node is not None and any(n.op_type in ("Relu", "Clip") and node.output[0] in n.input
                                    for n in model.graph.node)


def _quantize_static(source: Path, target: Path, cfg: QuantizeConfig, exclude: list[str], ctx: PassContext):
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, quantize_static

    from edgeshrink.passes.calibration import MnistCalibrationReader

    images = ctx.train.images[:cfg.calibration_images]
    with ctx.track("calibrate", len(images)) as advance:
        quantize_static(
            str(source), str(target), MnistCalibrationReader(ctx.signature, images, advance),
            quant_format=getattr(QuantFormat, cfg.format),
            op_types_to_quantize=list(QUANTIZED_OPS),
            per_channel=cfg.per_channel,
            activation_type=_quant_type(cfg.activation_type),
            weight_type=_quant_type(cfg.weight_type),
            nodes_to_exclude=exclude,
            calibrate_method=getattr(CalibrationMethod, cfg.calibration),
        )


def _quantize_dynamic(source: Path, target: Path, cfg: QuantizeConfig):
    from onnxruntime.quantization import quantize_dynamic

    quantize_dynamic(
        str(source), str(target),
        op_types_to_quantize=list(QUANTIZED_OPS),
        per_channel=cfg.per_channel,
        weight_type=_quant_type(cfg.weight_type),
    )


def _quant_type(name: str):
    from onnxruntime.quantization import QuantType

    return {"int8": QuantType.QInt8, "uint8": QuantType.QUInt8}[name]


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence onnxruntime.quantization's prints and root-logger warnings: the library never prints."""
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        logging.disable(previous)


def _unquantize_output(model: onnx.ModelProto, node_name: str) -> None:
    """Remove the QuantizeLinear -> DequantizeLinear pair after `node_name`, keeping its weights int8."""
    graph = model.graph
    node = next(n for n in graph.node if n.name == node_name)
    quants = [n for n in graph.node if n.op_type == "QuantizeLinear" and n.input[0] == node.output[0]]
    quantized = {q.output[0] for q in quants}
    dequants = [n for n in graph.node if n.op_type == "DequantizeLinear" and n.input[0] in quantized]
    if not quants or sum(i in quantized for n in graph.node for i in n.input) != len(dequants):
        return  # the int8 tensor feeds something other than a DequantizeLinear: leave it
    outputs = {o.name for o in graph.output}  # a graph output keeps its name
    kept = next((d.output[0] for d in dequants if d.output[0] in outputs), node.output[0])
    rename = {d.output[0]: kept for d in dequants} | {node.output[0]: kept}
    node.output[0] = kept
    remaining = [n for n in graph.node if n not in quants and n not in dequants]
    for n in remaining:
        n.input[:] = [rename.get(i, i) for i in n.input]
    del graph.node[:]
    graph.node.extend(remaining)
    read = {i for n in graph.node for i in n.input}
    for init in [i for i in graph.initializer if i.name not in read]:
        graph.initializer.remove(init)


SPEC = PassSpec(
    name="quantize",
    config=QuantizeConfig,
    run=run,
    summary="int8 weights (dynamic) or int8 weights and activations calibrated on training images (static)",
    quantizes=True,
)
