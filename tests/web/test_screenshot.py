"""Tracing real digits as pen strokes, and the README's picture of the page."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from edgeshrink.web import digit_strokes, screenshot


def test_strokes_trace_exactly_the_ink(test_split):
    image = test_split.images[0]
    covered = np.zeros((28, 28), dtype=bool)
    for (x0, y0), (x1, y1) in digit_strokes(image, threshold=128):
        assert y0 == y1 and x0 <= x1  # horizontal, left to right, in pad pixels (10 per MNIST pixel)
        row = int(y0 // 10)
        covered[row, int(x0 // 10): int(x1 // 10) + 1] = True
    assert np.array_equal(covered, image >= 128)


@pytest.mark.browser
def test_screenshot_shows_the_drawn_digit_classified(dist, browser, tmp_path):
    out = screenshot(dist, tmp_path / "page.png", browser=browser)
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width == 1180 and height > 800
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.png"]
