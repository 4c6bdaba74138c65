"""MNIST training images as calibration data, in the batches each model accepts."""

from __future__ import annotations

import numpy as np
import pytest

from edgeshrink.core.signature import PRESETS, Signature
from edgeshrink.passes.quantize.calibration import DYNAMIC_CHUNK, MnistCalibrationReader


@pytest.mark.parametrize("batch, count, runs, shape", [
    (None, 25, 1, (25, 1, 28, 28)),  # a dynamic batch takes up to DYNAMIC_CHUNK images per run
    (None, 250, 3, (DYNAMIC_CHUNK, 1, 28, 28)),  # 100, 100, then 50 topped up to 100
    (10, 25, 3, (10, 1, 28, 28)),  # fixed at 10: 10, 10, then 5 topped up to 10
    (0, 25, 25, (1, 28, 28)),  # no batch dimension: one image per run
])
def test_calibration_reader_respects_the_batch(batch, count, runs, shape, train_split):
    signature = Signature("image", "NCHW", batch, "float32", PRESETS["unit"])
    images = train_split.images[:count]
    advanced = []
    reader = MnistCalibrationReader(signature, images, advanced.append)
    feeds = list(iter(reader.get_next, None))
    assert len(feeds) == runs == len(reader)
    assert all(feed["image"].shape == shape and feed["image"].dtype == np.float32 for feed in feeds)
    assert sum(advanced) == count
    real = count - (runs - 1) * shape[0] if batch != 0 else 1
    if real < shape[0]:  # the last run is topped up with the first images, never left short
        np.testing.assert_array_equal(feeds[-1]["image"][real:], signature.feed(images[:shape[0] - real]))
    reader.rewind()
    assert reader.get_next() is not None
