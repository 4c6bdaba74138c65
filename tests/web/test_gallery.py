"""The gallery's digits in fewer grey levels: nearest levels, 0 and 255 kept, the words that say it."""

from __future__ import annotations

import numpy as np
import pytest

from edgeshrink.errors import BundleError
from edgeshrink.web.assemble import gallery

PIXELS = np.arange(256, dtype=np.uint8).reshape(16, 16)


@pytest.mark.parametrize("levels, largest", [(256, 0), (16, 8), (8, 18), (4, 42), (2, 127)])
def test_each_pixel_goes_to_the_nearest_level(levels, largest):
    out = gallery.rounded(PIXELS, levels)
    greys = np.rint(np.arange(levels) * 255 / (levels - 1)).astype(int)
    assert out.dtype == np.uint8 and sorted(np.unique(out)) == list(greys)  # 0 and 255 among them
    nearest = np.abs(PIXELS[..., None].astype(int) - greys).min(axis=-1)
    assert np.array_equal(np.abs(out.astype(int) - PIXELS), nearest) and nearest.max() == largest


def test_the_levels_are_said_where_there_are_fewer():
    assert gallery.described(256) == "" and gallery.described(16) == ", 16 grey levels"
    page = '<h2>Real MNIST test digits<span id="gallery-levels"></span></h2>'
    assert gallery.fill(page, {"samples": {"levels": 8}}) == (
        '<h2>Real MNIST test digits<span id="gallery-levels">, 8 grey levels</span></h2>')
    assert gallery.fill(gallery.fill(page, {"samples": {"levels": 8}}), {"samples": {"levels": 256}}) == page


@pytest.mark.parametrize("levels", [0, 1, 257, 16.0, True, "16"])
def test_levels_are_a_whole_number_from_2_to_256(levels):
    with pytest.raises(BundleError, match=r"the gallery's grey levels are 2 to 256, not "):
        gallery.check_levels(levels)
