"""The gallery's digits in fewer grey levels, and the words that say so on the page and in the manifest.

samples.bin is the biggest part of a first visit (13.2 KB brotli of 100 exact digits), and the gallery loads
after the first answer. Each pixel rounded to the nearest of `levels` evenly spaced greys (0 and 255 among
them) packs much smaller, stored as before (one byte a pixel: the page reads it unchanged): measured on the
first 100 test digits, 13,164 B exact, 7,866 B at 16 levels (a pixel moves by 8 at most), 6,387 B at 8
(18 at most), 4,663 B at 4 (42). The default is 8: the fewest that did not look worse, side by side with the
exact digits in the gallery (desktop, and a phone at 3 device pixels per pixel) and on the pad at 10x, where 4
levels harden the strokes' edges (bench/gallery_levels.py); on these 100 digits LeNet-5 `max`, tiny and micro
`small` classify all 100 right at 256, 16 and 8 levels alike. 256 keeps the exact digits; the source, the format
and the page's gallery title say the levels otherwise.
"""

from __future__ import annotations

import re

import numpy as np

from edgeshrink.errors import BundleError

EXACT = 256  # every grey: the digits as MNIST has them
DEFAULT = 8  # the gallery of a bundle: see above
_TITLE = re.compile(r'(<span id="gallery-levels">)(.*?)(</span>)', re.S)


def check_levels(levels: int) -> int:
    """`levels` if it is a number of grey levels the gallery can have (2 to 256), else a BundleError."""
    if isinstance(levels, bool) or not isinstance(levels, int) or not 2 <= levels <= EXACT:
        raise BundleError(f"the gallery's grey levels are 2 to {EXACT}, not {levels!r}")
    return levels


def rounded(images: np.ndarray, levels: int) -> np.ndarray:
    """uint8 `images` with each pixel rounded to the nearest of `levels` greys round(i * 255 / (levels - 1))."""
    if check_levels(levels) == EXACT:
        return images.astype(np.uint8)
    step = 255 / (levels - 1)
    return np.rint(np.rint(images.astype(np.float64) / step) * step).astype(np.uint8)


def described(levels: int) -> str:
    """What the levels add to the gallery's source and title: '' for exact pixels."""
    return "" if levels == EXACT else f", {levels} grey levels"


def fill(page: str, manifest: dict) -> str:
    """`page` saying the gallery's levels in its title (a page without the place for it as it is)."""
    levels = (manifest.get("samples") or {}).get("levels", EXACT)
    return _TITLE.sub(lambda m: m[1] + described(levels) + m[3], page, count=1)
