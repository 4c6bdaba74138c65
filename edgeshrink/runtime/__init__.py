"""A runtime compiled for one model: ONNX -> C kernels -> wasm32 + a small ES module, no onnxruntime-web."""

from edgeshrink.errors import UnsupportedModel
from edgeshrink.runtime.compiler import Compiled, compile_model

__all__ = ["Compiled", "UnsupportedModel", "compile_model"]
