"""Quantize: int8 weights, and with calibration on training images int8 activations too.

Wraps onnxruntime.quantization's path-in/path-out functions once. The defaults target
onnxruntime-web: static QDQ (int8 symmetric weights per channel, uint8 activations) on Conv, MatMul
and Gemm only. onnxruntime fuses the QDQ pairs into QLinearConv/QLinearMatMul when a session starts,
in Python and in the browser alike, and every other operator keeps running in float.

`reduce_range` keeps int8 weights within [-64, 64] (onnxruntime's 7-bit weights): onnxruntime's x86 kernels
without VNNI add pairs of uint8 x int8 products into a saturating int16, which 255 * 64 * 2 never overflows.
"""

from __future__ import annotations

import contextlib
import io
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Literal

import onnx

from edgeshrink.core.model import clone, describe, is_quantized
from edgeshrink.errors import PassError, reason
from edgeshrink.params import check_choices, param
from edgeshrink.passes.base import PassContext, PassSpec, restore_interface
from edgeshrink.passes.quantize import surgery
from edgeshrink.passes.quantize.surgery import QUANTIZED_OPS

MAX_CALIBRATION_IMAGES = 60000


@dataclass(frozen=True)
class QuantizeConfig:
    """How to quantize. `dynamic` needs no calibration: it ignores format, calibration* and activation_type."""

    mode: Literal["static", "dynamic", "weights"] = param(
        "static", "static: int8 weights and activations, ranges calibrated on training images; dynamic: "
                  "int8 weights, activations quantized as the model runs; weights: int8 weights (and int32 biases "
                  "at their scale) behind a DequantizeLinear, float arithmetic (the fewest bytes besides the weights)",
        search=("dynamic", "static"))
    format: Literal["QDQ", "QOperator"] = param(
        "QDQ", "QDQ: standard operators only, fused by onnxruntime when it loads the model",
        search=("QDQ", "QOperator"))
    per_channel: bool = param(True, "one weight scale per output channel: better accuracy, same bytes",
                              search=(True, False))
    calibration: Literal["MinMax", "Entropy", "Percentile"] = param("MinMax", "how static ranges are chosen",
                                                                    search=("MinMax", "Entropy", "Percentile"))
    calibration_images: int = param(500, "training images whose activations set the static ranges, 1 to "
                                          f"{MAX_CALIBRATION_IMAGES}", search=(100, 500, 2000))
    weight_type: Literal["int8", "uint8"] = param("int8", "int8 weights are quantized symmetrically")
    activation_type: Literal["uint8", "int8"] = param(
        "uint8", "uint8 suits ReLU outputs and onnxruntime's u8s8 kernels")
    preprocess: bool = param(True, "onnxruntime's quant_pre_process first: it folds constants, so more "
                                   "weights quantize")
    float_scores: bool = param(True, "never round the class scores to 8 bits: close logits would tie")
    reduce_range: bool = param(
        True, "int8 weights within [-64, 64] (7 bits; uint8 weights 0..127), so onnxruntime's default kernels "
              "on x86 CPUs without VNNI (AVX2, AVX-512 Core) give exact sums; on LeNet-5 and the peers it cost "
              "-0.07 to +0.15 points and made files 10-12% smaller (bench/int8_native.md); static and dynamic "
              "only: mode weights computes in float, has no int8 sums, and ignores it")

    def __post_init__(self):
        check_choices(self)
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
        return clone(model)
    if cfg.mode == "weights":
        from edgeshrink.passes.quantize import weights

        return restore_interface(weights.quantize(model, cfg.per_channel), model, "quantizing", describe(model))
    with tempfile.TemporaryDirectory(prefix="edgeshrink-quantize-") as tmp:
        source, target = Path(tmp) / "float.onnx", Path(tmp) / "quantized.onnx"
        onnx.save(surgery.upgrade(model), str(source))
        if cfg.preprocess:
            source = _preprocess(source, Path(tmp) / "preprocessed.onnx", ctx)
        prepared = surgery.tidy(onnx.load(str(source)))
        onnx.save(prepared, str(source))
        # The class scores stay float. Static QDQ: the score layer's Q/DQ pair is removed afterwards
        # (its weights stay int8); QOperator, or a ReLU the quantizer would fold into that pair: the
        # layer is left float. Dynamic quantization outputs float anyway.
        scores = surgery.score_layers(prepared, ctx.signature) if cfg.float_scores and cfg.mode == "static" else []
        folded = any(surgery.feeds_activation(prepared, name) for name in scores)
        unquantize = scores if cfg.format == "QDQ" and not folded else []
        shared = surgery.shared_grid_overrides(prepared, cfg.reduce_range) if cfg.per_channel else {}
        try:
            with _quiet():
                if cfg.mode == "dynamic":
                    _quantize_dynamic(source, target, cfg)
                else:
                    _quantize_static(source, target, cfg, [] if unquantize else scores, ctx, shared)
        except Exception as exc:  # onnxruntime.quantization raises ValueError, RuntimeError, KeyError...
            raise PassError(f"quantizing {describe(model)} failed: {reason(exc)}") from exc
        quantized = onnx.load(str(target))
    for name in unquantize:
        surgery.unquantize_output(quantized, name)
    out = restore_interface(quantized, model, "quantizing", describe(model))
    if out.ByteSize() >= model.ByteSize():  # scales, zero points and Q/DQ nodes outweigh a tiny model's weights
        ctx.notes.append(f"quantize: the int8 model ({out.ByteSize():,} bytes) is not smaller than the float "
                         f"one ({model.ByteSize():,} bytes): too few weights for 8 bits to pay off")
    return out


def _preprocess(source: Path, target: Path, ctx: PassContext) -> Path:
    """onnxruntime's quant_pre_process, without symbolic shapes if those fail, else skipped with a note."""
    from onnxruntime.quantization.shape_inference import quant_pre_process

    why = ""
    for skip_symbolic in (False, True):  # symbolic inference trips on some exporters' Constant nodes
        try:
            with _quiet():
                quant_pre_process(str(source), str(target), skip_symbolic_shape=skip_symbolic)
            return target
        except Exception as exc:
            why = reason(exc)
    ctx.notes.append(f"quantize: onnxruntime pre-processing failed ({why}); quantized without it")
    return source


def _quantize_static(source: Path, target: Path, cfg: QuantizeConfig, exclude: list[str], ctx: PassContext,
                     overrides: dict[str, list[dict]]):
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, quantize_static

    from edgeshrink.passes.quantize.calibration import MnistCalibrationReader

    images = ctx.train.images[:cfg.calibration_images]
    with ctx.track("calibrate", len(images)) as advance:
        quantize_static(
            str(source), str(target), MnistCalibrationReader(ctx.signature, images, advance),
            quant_format=getattr(QuantFormat, cfg.format),
            op_types_to_quantize=list(QUANTIZED_OPS),
            per_channel=cfg.per_channel,
            reduce_range=cfg.reduce_range,
            activation_type=_quant_type(cfg.activation_type),
            weight_type=_quant_type(cfg.weight_type),
            nodes_to_exclude=exclude,
            calibrate_method=getattr(CalibrationMethod, cfg.calibration),
            extra_options={"TensorQuantOverrides": overrides} if overrides else {},
        )


def _quantize_dynamic(source: Path, target: Path, cfg: QuantizeConfig):
    from onnxruntime.quantization import quantize_dynamic

    quantize_dynamic(
        str(source), str(target),
        op_types_to_quantize=list(QUANTIZED_OPS),
        per_channel=cfg.per_channel,
        reduce_range=cfg.reduce_range,
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



SPEC = PassSpec(
    name="quantize",
    config=QuantizeConfig,
    run=run,
    summary="int8 weights (dynamic) or int8 weights and activations calibrated on training images (static)",
    quantizes=True,
)
