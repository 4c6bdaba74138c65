"""Draw a real MNIST digit on the page with the mouse, and take a picture of the page for the README."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from edgeshrink.atomic import atomic_path
from edgeshrink.errors import BundleError
from edgeshrink.web.check.browser import Watch, open_page, settle, using
from edgeshrink.web.check.serve import running

PAD = 280  # the drawing canvas's own resolution (the page scales it on screen)


def digit_strokes(image: np.ndarray, threshold: int = 160, size: int = PAD) -> list[list[tuple[float, float]]]:
    """Pen strokes that trace a 28x28 digit's ink on the pad: one horizontal stroke per run of ink in a row.

    Each stroke is a list of (x, y) points in pad pixels. The pen is thick, so a high threshold keeps the
    traced digit close to the original's stroke weight.
    """
    scale = size / image.shape[1]
    strokes = []
    for y, row in enumerate(np.asarray(image) >= threshold):
        x = 0
        while x < len(row):
            if not row[x]:
                x += 1
                continue
            start = x
            while x < len(row) and row[x]:
                x += 1
            yc = (y + 0.5) * scale
            strokes.append([((start + 0.5) * scale, yc), ((x - 0.5) * scale, yc)])
    return strokes


def handwritten_three(size: int = PAD) -> list[list[tuple[float, float]]]:
    """One smooth pen stroke shaped like a handwritten 3 (two arcs), for pictures of the page."""
    c = size / 280
    top = [(140 + 52 * np.cos(a), 92 + 40 * np.sin(a)) for a in np.linspace(-2.6, 1.45, 24)]
    bottom = [(142 + 62 * np.cos(a), 182 + 52 * np.sin(a)) for a in np.linspace(-1.5, 2.55, 28)]
    return [[(x * c, y * c) for x, y in top + bottom]]


def draw(page, strokes: list[list[tuple[float, float]]]) -> dict:
    """Draw `strokes` on the page's pad with the mouse; the page's state once it has classified the drawing."""
    pad = page.locator("#pad")
    pad.scroll_into_view_if_needed()  # the mouse only reaches what is in the viewport
    box = pad.bounding_box()
    k = box["width"] / PAD
    for (x0, y0), *rest in strokes:
        page.mouse.move(box["x"] + x0 * k, box["y"] + y0 * k)
        page.mouse.down()
        for x, y in rest:
            page.mouse.move(box["x"] + x * k, box["y"] + y * k)
        page.mouse.up()
    status, state = settle(page, "window.edgeshrink.settled()")
    if status == "error":
        raise BundleError(f"the page could not classify the drawing: {state}")
    return state


def screenshot(dist: str | os.PathLike, out: str | os.PathLike, image: np.ndarray | None = None,
               model: str | None = None, width: int = 1180, executable: str | None = None, browser=None) -> Path:
    """Save a PNG of the page with a digit drawn with the mouse and classified, the gallery classified too.

    The digit is `image` (28x28, traced row by row) or else a smooth handwritten 3. `browser` is an open
    Playwright Browser to reuse; by default Chromium (`executable`) is launched.
    """
    strokes = handwritten_three() if image is None else digit_strokes(image)
    query = f"?model={model}" if model else ""
    with running(dist) as url, using(browser, executable) as chromium:
        context = chromium.new_context(viewport={"width": width, "height": 900}, device_scale_factor=1)
        page = open_page(context, url + query, Watch(url))
        status, message = settle(page, "window.edgeshrink.timeToFirstPrediction")
        if status == "error":
            raise BundleError(f"the page could not classify a digit: {message}")
        settle(page, "window.edgeshrink.galleryLoaded")  # the gallery and its buttons come after the first digit
        page.click("#run-all")
        page.wait_for_function("() => document.getElementById('gallery-score').textContent.includes(' right ')")
        draw(page, strokes)
        with atomic_path(out) as tmp:
            page.screenshot(path=str(tmp), full_page=True, type="png")
            tmp.chmod(0o644)
        context.close()
    return Path(out)
