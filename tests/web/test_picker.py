"""The model picker's cards, rendered into index.html from the manifest."""

from __future__ import annotations

from edgeshrink.web.assemble import manifest, picker

PAGE = ('<div id="models" class="models" role="radiogroup"></div>\n<div class="bench"><button id="bench">'
        "Benchmark</button></div>")


def _doc(**fields):
    variant = {"name": "fp32", "accuracy": 0.9712, "description": "a <b> & c", "bytes": 25_310, "gzip_bytes": 23_042,
               "params": 5994, "nonzero_params": 5994, "latency_ms": 0.0123, "browser": None, **fields}
    return {"default": "fp32", "variants": [variant, {**variant, "name": "int8", "bytes": 8_412, "params": 12_345,
                                                      "nonzero_params": 6_001, "browser": {"latency_ms": 1.234}}]}


def test_a_card_per_variant_with_the_figures_as_the_page_shows_them():
    page = manifest.embed('<script type="application/json" id="manifest">null</script>' + PAGE, _doc())
    assert page.count('class="model"') == 2 and page.count('aria-checked="true"') == 1
    assert ('<button type="button" class="model" role="radio" aria-checked="true" data-model="fp32">'
            '<div class="model-head"><span class="model-name">fp32</span><span class="model-acc">97.12 %</span></div>'
            '<p class="model-desc">a &lt;b&gt; &amp; c</p><dl class="model-facts"><dt>size</dt><dd>25 kB · gzip 23 kB'
            "</dd><dt>params</dt><dd>5,994</dd><dt>latency</dt><dd>12 µs native</dd></dl></button>") in page
    assert "<dd>8.4 kB · gzip 23 kB</dd><dt>params</dt><dd>6,001 of 12,345</dd>" in page
    assert "<dd>1.23 ms browser · 12 µs native</dd>" in page
    assert page.endswith('</div>\n<div class="bench"><button id="bench">Benchmark</button></div>')


def test_embedding_again_replaces_the_cards():
    once = picker.fill(PAGE, _doc())
    again = picker.fill(once, _doc(accuracy=None, latency_ms=None, description=""))
    assert again.count('class="model"') == 2 and "97.12" not in again and "model-desc" not in again
    assert '<span class="model-acc">–</span>' in again and "<dd>– native</dd>" in again


def test_a_page_without_a_picker_stays_as_it_is():
    assert picker.fill("<main></main>", _doc()) == "<main></main>"


def test_numbers_read_as_before():
    assert [picker.format_bytes(n) for n in (999, 1000, 9_950, 10_000, 999_499, 1_234_567, None)] == [
        "999 B", "1.0 kB", "9.9 kB", "10 kB", "999 kB", "1.23 MB", "–"]
    assert [picker.format_ms(ms) for ms in (0.0004, 0.5, 1, 9.999, 12.34, None)] == [
        "0 µs", "500 µs", "1.00 ms", "10.00 ms", "12.3 ms", "–"]
    assert picker.format_count(1_234_567) == "1,234,567"
