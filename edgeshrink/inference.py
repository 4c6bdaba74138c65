"""Run models with onnxruntime on MNIST images, whatever batch the model accepts."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort

from edgeshrink.errors import ModelError
from edgeshrink.signature import Signature


def session(model: onnx.ModelProto, threads: int = 0) -> ort.InferenceSession:
    """An onnxruntime CPU session; threads=0 lets onnxruntime choose."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1 if threads else 0
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph/NotImplemented types
        first = str(exc).strip().splitlines()[0]
        raise ModelError(f"onnxruntime cannot load the model: {first}") from exc


def run(sess: ort.InferenceSession, signature: Signature, pixels: np.ndarray) -> list[np.ndarray]:
    """Outputs for at most one run's worth of images; a fixed batch is padded and the padding ignored."""
    n = len(pixels)
    if signature.batch and n < signature.batch:
        pad = np.repeat(pixels[-1:], signature.batch - n, axis=0)
        pixels = np.concatenate([pixels, pad])
    try:
        return sess.run(None, {signature.input_name: signature.feed(pixels)})
    except Exception as exc:
        first = str(exc).strip().splitlines()[0]
        raise ModelError(f"running the model failed: {first}") from exc


def _chunks(signature: Signature, pixels: np.ndarray):
    """Slices of `pixels`, each as many images as one run takes."""
    return (pixels[start:start + signature.chunk] for start in range(0, len(pixels), signature.chunk))


def predict(sess: ort.InferenceSession, signature: Signature, pixels: np.ndarray, progress=None) -> np.ndarray:
    """Predicted digit for every image in `pixels` (n, 28, 28); `progress(k)` is told of each chunk."""
    parts = []
    for chunk in _chunks(signature, pixels):
        parts.append(signature.classes(run(sess, signature, chunk), len(chunk)))
        if progress:
            progress(len(chunk))
    return np.concatenate(parts)


def scores(sess: ort.InferenceSession, signature: Signature, pixels: np.ndarray) -> np.ndarray:
    """(n, 10) class scores as the model outputs them."""
    return np.concatenate([signature.scores(run(sess, signature, chunk), len(chunk))
                           for chunk in _chunks(signature, pixels)])


def accuracy(sess: ort.InferenceSession, signature: Signature, pixels: np.ndarray, labels: np.ndarray,
             progress=None) -> float:
    return float((predict(sess, signature, pixels, progress) == labels).mean())
