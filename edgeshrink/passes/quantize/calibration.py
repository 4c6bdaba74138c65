"""MNIST training images as onnxruntime calibration data, in the batches the model accepts.

Imported only by the quantize pass when it runs: it needs onnxruntime.quantization.
"""

from __future__ import annotations

from typing import Callable, Iterator

import numpy as np
from onnxruntime.quantization import CalibrationDataReader

from edgeshrink.core.signature import Signature

DYNAMIC_CHUNK = 100  # images per run for dynamic-batch models: small enough to keep activations in memory


class MnistCalibrationReader(CalibrationDataReader):
    """Feeds raw uint8 training images through `signature.feed`, one model run at a time.

    A model without a batch dimension gets one image per run, a fixed batch B gets B images per run,
    a dynamic batch min(DYNAMIC_CHUNK, n). Every run has the same size, as onnxruntime's histogram
    calibrators (Entropy, Percentile) require: the last run is topped up with the first images.
    `advance(k)` is told of the k real images of every run, for a progress bar.
    """

    def __init__(self, signature: Signature, images: np.ndarray, advance: Callable[[int], None] | None = None):
        if len(images) == 0:
            raise ValueError("calibration needs at least one image")
        self._signature = signature
        self._images = images
        self._advance = advance or (lambda n: None)
        self._batches: Iterator[dict[str, np.ndarray]] = self._generate()

    def _step(self) -> int:
        if self._signature.batch == 0:
            return 1
        return self._signature.batch or min(DYNAMIC_CHUNK, len(self._images))

    def _generate(self) -> Iterator[dict[str, np.ndarray]]:
        step = self._step()
        for start in range(0, len(self._images), step):
            chunk = self._images[start:start + step]
            real = len(chunk)
            if real < step:
                top_up = np.resize(self._images, (step - real, *self._images.shape[1:]))  # cycles if needed
                chunk = np.concatenate([chunk, top_up])
            feed = {self._signature.input_name: self._signature.feed(chunk)}
            self._advance(real)
            yield feed

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._batches, None)

    def rewind(self) -> None:
        self._batches = self._generate()

    def __len__(self) -> int:
        return -(-len(self._images) // self._step())
