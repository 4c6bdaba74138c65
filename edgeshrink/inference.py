"""Run models on MNIST images, whatever batch the model accepts, with exact int8 arithmetic on any CPU.

`session` is what every measurement runs: onnxruntime with the option that makes its int8 kernels exact
(see `engine`), or, for an int8 model those kernels would still get wrong on this CPU, the compiled runtime.
`session(native=True)` is onnxruntime as a user's own deployment creates it: its defaults.
"""

from __future__ import annotations

import numpy as np
import onnx

from edgeshrink import engine
from edgeshrink.core.model import is_quantized, stored_signature
from edgeshrink.core.signature import Signature
from edgeshrink.errors import ModelError, UnsupportedModel


def session(model: onnx.ModelProto, threads: int = 0, signature: Signature | None = None, native: bool = False):
    """A session computing the exact ONNX int8 semantics (or onnxruntime's defaults, `native`); threads=0 lets
    onnxruntime choose. `signature` tells the compiled runtime how the model is fed where it stands in."""
    int8 = not native and is_quantized(model)  # a float model needs neither the option nor its check
    try:
        sess, took_option = engine.open_session(model, threads, exact=int8)
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph/NotImplemented types
        first = str(exc).strip().splitlines()[0]
        raise ModelError(f"onnxruntime cannot load the model: {first}") from exc
    sess.engine = engine.ENGINE_ORT_EXACT if took_option else engine.ENGINE_ORT
    if not int8:
        return sess
    why = engine.inexact(model, took_option)
    return CompiledSession(model, signature, why) if why else sess


def engine_of(sess) -> str:
    """What computes the int8 arithmetic of `sess` (a session from `session`)."""
    return sess.engine


class CompiledSession:
    """A model run by its compiled wasm (in wasmtime), which computes onnxruntime's integer arithmetic exactly:
    where onnxruntime's own kernels on this CPU would not (`why`), or to measure the page's runtime itself
    (`compiled` given). `run` returns the score output only."""

    engine = engine.ENGINE_COMPILED

    def __init__(self, model: onnx.ModelProto, signature: Signature | None, why: str = "", compiled=None):
        self.model, self.why = model, why
        self.signature = signature or stored_signature(model)
        self._compiled = compiled

    def run(self, names, feed: dict) -> list[np.ndarray | None]:
        from edgeshrink.runtime import compile_model
        from edgeshrink.runtime.wasm import run_images

        sig = self.signature
        if sig is None:
            raise ModelError(f"onnxruntime's int8 kernels on this CPU are not exact for this model ({self.why}) and "
                             "the compiled runtime needs its signature; pass --preprocess")
        try:
            self._compiled = self._compiled or compile_model(self.model, sig)
            x = np.asarray(feed[sig.input_name])
            images = 1 if sig.batch == 0 else len(x)
            scores = run_images(self._compiled, x.reshape(images, -1))
        except UnsupportedModel as exc:
            if not self.why:  # measuring the page's runtime itself: the caller reports why it cannot run
                raise
            raise ModelError(f"onnxruntime's int8 kernels on this CPU are not exact for this model ({self.why}), "
                             f"and the compiled runtime cannot run it: {exc}") from exc
        return [None] * sig.output_index + [scores]


def run(sess, signature: Signature, pixels: np.ndarray) -> list[np.ndarray]:
    """Outputs for at most one run's worth of images; a fixed batch is padded and the padding ignored."""
    n = len(pixels)
    if signature.batch and n < signature.batch:
        pad = np.repeat(pixels[-1:], signature.batch - n, axis=0)
        pixels = np.concatenate([pixels, pad])
    try:
        return sess.run(None, {signature.input_name: signature.feed(pixels)})
    except UnsupportedModel:
        raise  # the compiled runtime, measured as the page's, cannot run it: measure_compiled reports why
    except Exception as exc:
        first = str(exc).strip().splitlines()[0]
        raise ModelError(f"running the model failed: {first}") from exc


def _chunks(signature: Signature, pixels: np.ndarray):
    """Slices of `pixels`, each as many images as one run takes."""
    return (pixels[start:start + signature.chunk] for start in range(0, len(pixels), signature.chunk))


def predict(sess, signature: Signature, pixels: np.ndarray, progress=None) -> np.ndarray:
    """Predicted digit for every image in `pixels` (n, 28, 28); `progress(k)` is told of each chunk."""
    parts = []
    for chunk in _chunks(signature, pixels):
        parts.append(signature.classes(run(sess, signature, chunk), len(chunk)))
        if progress:
            progress(len(chunk))
    return np.concatenate(parts)


def scores(sess, signature: Signature, pixels: np.ndarray) -> np.ndarray:
    """(n, 10) class scores as the model outputs them."""
    return np.concatenate([signature.scores(run(sess, signature, chunk), len(chunk))
                           for chunk in _chunks(signature, pixels)])


def accuracy(sess, signature: Signature, pixels: np.ndarray, labels: np.ndarray,
             progress=None) -> float:
    return float((predict(sess, signature, pixels, progress) == labels).mean())
