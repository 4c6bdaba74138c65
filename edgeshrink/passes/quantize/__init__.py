"""The quantize pass: `quantize.py` wraps onnxruntime's quantizers, `surgery.py` edits the graph
before and after them, `calibration.py` feeds them MNIST training images."""

from edgeshrink.passes.quantize.quantize import MAX_CALIBRATION_IMAGES, SPEC, QuantizeConfig, check_type_pair, run

__all__ = ["MAX_CALIBRATION_IMAGES", "QuantizeConfig", "SPEC", "check_type_pair", "run"]
