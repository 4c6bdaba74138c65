"""The page in headless Chromium: self-contained, offline, drawing, gallery, picker, visible failures."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from edgeshrink.web import digit_strokes, running
from edgeshrink.web.assemble import gallery
from edgeshrink.web.check.browser import Watch, open_page, settle
from edgeshrink.web.check.screenshot import draw

pytestmark = pytest.mark.browser  # every test here drives the page in Chromium


def _open(browser, url, **context_options):
    context = browser.new_context(viewport={"width": 1180, "height": 900}, **context_options)
    watch = Watch(url)
    page = open_page(context, url, watch)
    return context, page, watch


@pytest.fixture
def loaded(browser, site):
    """The page, its watch, after the first prediction."""
    context, page, watch = _open(browser, site)
    status, first = settle(page, "window.edgeshrink.timeToFirstPrediction")
    assert status == "ok", first
    yield page, watch
    context.close()


def test_page_loads_nothing_from_another_origin(loaded):
    page, watch = loaded
    assert settle(page, "window.edgeshrink.galleryLoaded") == ["ok", True]
    assert watch.foreign == [] and watch.errors == []
    assert page.locator("#error").is_hidden()
    assert "1 thread" in page.locator("#status").inner_text()
    assert page.locator("#digit").inner_text() == "7"  # the first gallery digit, classified on load


def test_page_works_offline_once_loaded(loaded, test_split):
    page, _ = loaded
    assert settle(page, "window.edgeshrink.loadAll()") == ["ok", True]
    page.context.set_offline(True)
    page.click(".model[data-model='u8-nhw-argmax']")
    state = settle(page, "window.edgeshrink.settled()")[1]
    assert state["model"] == "u8-nhw-argmax" and state["prediction"] == 7
    pixels = test_split.images[1].ravel().tolist()
    answer = page.evaluate("p => window.edgeshrink.classify('n784-mnist-single', p)", pixels)
    assert answer["predictions"] == [int(test_split.labels[1])]
    assert page.locator("#error").is_hidden()


def _mnist_like(pixels: np.ndarray) -> tuple[int, float, float]:
    """Longest side of the ink's box and its centre of mass (x, y), in pixels."""
    ys, xs = np.nonzero(pixels)
    v = pixels.astype(np.float64)
    mass = v.sum()
    cx = ((np.arange(28) + 0.5) * v.sum(axis=0)).sum() / mass
    cy = ((np.arange(28) + 0.5) * v.sum(axis=1)).sum() / mass
    return max(xs.max() - xs.min(), ys.max() - ys.min()) + 1, cx, cy


def test_drawing_real_digits_with_the_mouse_gives_their_class(loaded, test_split):
    page, _ = loaded
    right = 0
    for i in range(8):
        page.click("#clear")
        state = draw(page, digit_strokes(test_split.images[i]))
        right += state["prediction"] == test_split.labels[i]
        pixels = np.array(page.evaluate("window.edgeshrink.drawnPixels()"), dtype=np.uint8).reshape(28, 28)
        side, cx, cy = _mnist_like(pixels)
        assert side == 20 and abs(cx - 14) <= 0.5 and abs(cy - 14) <= 0.5  # MNIST's box and centring
    assert right >= 7
    assert page.locator("#digit").inner_text() == str(state["prediction"])
    assert page.locator(".bar.best .bar-digit").inner_text() == str(state["prediction"])


def test_the_pad_shows_the_first_digit_each_pixel_a_square(loaded, test_split):
    page, _ = loaded
    pad = page.evaluate("""() => { const c = document.getElementById('pad');
        return [c.width, Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)]; }""")
    side, rgba = pad
    scale = side // 28
    shown = np.array(rgba, np.uint8).reshape(side, side, 4)
    expected = np.kron(test_split.images[0].reshape(28, 28), np.ones((scale, scale), np.uint8))
    assert all(np.array_equal(shown[..., c], expected) for c in range(3)) and (shown[..., 3] == 255).all()


def test_clear_empties_the_prediction(loaded):
    page, _ = loaded
    page.click("#clear")
    assert settle(page, "window.edgeshrink.settled()")[1]["prediction"] is None
    assert page.locator("#digit").inner_text() == "–"
    assert page.evaluate("window.edgeshrink.drawnPixels()") is None


def test_gallery_classifies_real_test_digits(loaded, test_split):
    page, _ = loaded
    settle(page, "window.edgeshrink.galleryLoaded")
    shown = page.evaluate("""() => [...document.querySelectorAll('#gallery canvas')].map((c) =>
        Array.from(c.getContext('2d').getImageData(0, 0, 28, 28).data.filter((_, i) => i % 4 === 0)))""")
    real = test_split.images[:100].reshape(-1, 28, 28)
    assert np.array_equal(np.array(shown, np.uint8).reshape(-1, 28, 28), gallery.rounded(real, gallery.DEFAULT))
    page.click("#gallery .sample[data-index='1']")
    settle(page, "window.edgeshrink.settled()")
    assert page.locator("#digit").inner_text() == str(test_split.labels[1])
    page.click("#run-all")
    page.wait_for_function("() => document.getElementById('gallery-score').textContent.includes(' right ')")
    right = int(page.locator("#gallery-score").inner_text().split()[0])
    assert right >= 90 and page.locator(".sample.right").count() == right
    assert page.locator(".sample.wrong").count() == 100 - right


def test_picker_shows_each_variant_and_switches(loaded, web_variants, dist):
    page, _ = loaded
    doc = json.loads((dist / "manifest.json").read_text())
    cards = page.locator(".model")
    assert cards.count() == len(web_variants)
    first = cards.nth(0).inner_text()
    assert "kB" in first and f"{web_variants[0].accuracy * 100:.2f} %" in first and "5,994" in first
    cards.nth(1).click()
    assert settle(page, "window.edgeshrink.settled()")[1]["model"] == doc["variants"][1]["name"]
    assert page.url.endswith(f"?model={doc['variants'][1]['name']}")
    assert cards.nth(1).get_attribute("aria-checked") == "true"


def test_benchmark_reports_a_median(loaded):
    page, _ = loaded
    result = page.evaluate("window.edgeshrink.benchmark('fp32', 40)")
    assert result["runs"] >= 40 and result["runs"] == 20 * result["group"] and 0 < result["median_ms"] < 50
    assert result["group"] * result["median_ms"] > 0.5  # groups long enough for a 0.1 ms clock (2 ms when sized)
    page.click("#bench")
    page.wait_for_function("() => document.getElementById('bench-out').textContent.includes('per inference')")


def test_page_feeds_every_layout_like_python(loaded, web_variants, test_split):
    page, _ = loaded
    pixels = test_split.images[:3]
    for v in web_variants:
        sig = v.signature
        n = 1 if sig.batch == 0 else 3
        batch = pixels[:n] if not sig.batch else np.concatenate([pixels, np.repeat(pixels[-1:], sig.batch - 3, 0)])
        expected = sig.feed(batch)
        got = page.evaluate("([name, pixels, n]) => window.edgeshrink.feed(name, pixels, n)",
                            [v.name, pixels[:n].ravel().tolist(), n])
        assert got["type"] == sig.dtype and tuple(got["dims"]) == expected.shape
        flat = expected.view(np.uint16) if sig.dtype == "float16" else expected
        np.testing.assert_allclose(np.array(got["data"]), flat.ravel().astype(np.float64), rtol=1e-6, atol=1e-6)


def _broken_copy(dist, tmp_path, remove: str):
    copy = tmp_path / "dist"
    shutil.copytree(dist, copy)
    (copy / remove).unlink()
    return copy


@pytest.mark.parametrize("remove, message", [
    ("models/fp32.onnx", "models/fp32.onnx could not load (HTTP 404)"),
    ("ort/ort.wasm.min.mjs", "onnxruntime-web could not load from ort/ort.wasm.min.mjs"),
    ("ort/ort-wasm-simd-threaded.wasm", "onnxruntime-web cannot load model fp32"),
])
def test_a_missing_file_fails_visibly(browser, dist, tmp_path, remove, message):
    with running(_broken_copy(dist, tmp_path, remove)) as url:
        context, page, _ = _open(browser, url)
        status, error = settle(page, "window.edgeshrink.timeToFirstPrediction")
        assert status == "error" and message in error
        assert page.locator("#error").is_visible() and message in page.locator("#error").inner_text()
        context.close()


def test_the_page_works_from_its_copy_of_the_manifest_alone(loaded, dist):
    # index.html carries only the fields pagecopy.py lists: the first answer, the gallery, the benchmark, picking
    # a variant and the sizes (HTML the bundle renders) work without the rest of manifest.json
    from edgeshrink.web.assemble import footer, pagecopy

    page, watch = loaded
    carried = page.evaluate("window.edgeshrinkBoot.manifest")
    assert set(carried) == set(pagecopy.PAGE_FIELDS)
    assert all(set(v) <= set(pagecopy.VARIANT_FIELDS) for v in carried["variants"])
    assert settle(page, "window.edgeshrink.galleryLoaded") == ["ok", True]
    assert page.evaluate("window.edgeshrink.benchmark('fp32', 20)")["median_ms"] > 0
    doc = json.loads((dist / "manifest.json").read_text())
    assert page.locator("#sizes").inner_text() == footer.text(doc) != ""
    loaded_files = page.evaluate("performance.getEntriesByType('resource').map((e) => e.name)")
    assert not any(name.endswith("manifest.json") for name in loaded_files) and watch.errors == []


def test_a_visit_loads_the_test_hooks_calls_only_when_one_is_called(browser, site):
    context, page, watch = _open(browser, site)
    assert settle(page, "window.edgeshrink.galleryLoaded") == ["ok", True]
    files = "performance.getEntriesByType('resource').map((e) => e.name.split('/').pop())"
    assert "later.js" in page.evaluate(files) and "hook.js" not in page.evaluate(files)
    assert settle(page, "window.edgeshrink.state()")[1]["prediction"] == 7
    assert "hook.js" in page.evaluate(files) and watch.errors == []
    context.close()
