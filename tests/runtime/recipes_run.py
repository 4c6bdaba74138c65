"""Run a recipe's passes on a model without the pipeline's per-step measurements (tests only need the result)."""

from __future__ import annotations

import numpy as np
import onnx

from edgeshrink import inference
from edgeshrink import recipe as recipes
from edgeshrink.core.model import with_signature
from edgeshrink.passes.base import PassContext
from edgeshrink.runtime import compile_model
from edgeshrink.runtime.wasm import feed_images, run_images
from tests.runtime.kernel_check import exact_onnxruntime


def apply_recipe(proto: onnx.ModelProto, signature, name: str, train, overrides=()) -> onnx.ModelProto:
    model = with_signature(proto, signature)
    for step in recipes.load(name, list(overrides)).steps:
        model = step.spec.run(model, step.config, PassContext(signature, train, seed=0))
    return with_signature(model, signature)


def compiled_vs_onnxruntime(model: onnx.ModelProto, signature, pixels: np.ndarray, build: str = "fast"):
    """(compiled scores, onnxruntime scores), both one image per run."""
    got = run_images(compile_model(model, signature, build=build), feed_images(signature, pixels))
    sess = exact_onnxruntime(model)
    want = np.concatenate([inference.scores(sess, signature, pixels[i:i + 1]) for i in range(len(pixels))])
    return got, want.astype(np.float32)
