"""What index.html carries of the manifest (the fields the page reads) and the footer rendered from the rest."""

from __future__ import annotations

import base64

from edgeshrink.web.assemble import footer, pagecopy

FIRST = bytes(range(200)) * 3 + bytes(184)  # 784 pixels


SHAPE = {"batch": 1, "input": {"type": "float32", "length": 784}, "output": {"type": "float32", "length": 10}}


def _variant(runtime: str) -> dict:
    variant = {key: f"<{key}>" for key in pagecopy.VARIANT_FIELDS}
    compiled = {"entry": "models/a/model.mjs", "wasm": "models/a/model.wasm", "inline": True, "shape": SHAPE}
    return {**variant, "runtime": runtime, "compiled": compiled if runtime == "compiled" else None}


def _doc() -> dict:
    return {
        "format": 3, "generator": "edgeshrink", "default": "fp32", "ort": None, "sizes": {"total": {"brotli": 42_419}},
        "samples": {"file": "samples.bin", "count": 100, "source": "MNIST", "format": "...",
                    "first": base64.b64encode(FIRST).decode()},
        "variants": [{**_variant(runtime), "description": "for people", "accuracy": 0.99, "first_visit": {}}
                     for runtime in ("compiled", "ort")],
        "first_visit": {"runtime": {"brotli": 0}, "models": {"brotli": 8_739}, "app": {"brotli": 21_448},
                        "total": {"brotli": 30_187}},
        "verification": {"browser": "Chromium"},
    }


def test_the_page_copy_holds_only_the_page_fields():
    copy = pagecopy.page_copy(_doc())
    assert set(copy) == set(pagecopy.PAGE_FIELDS)
    # a compiled variant: not what only onnxruntime-web reads, nor its loader (the page runs its wasm itself)
    compiled = {key: value for key, value in _variant("compiled").items() if key not in pagecopy.ORT_FIELDS}
    assert copy["variants"] == [{**compiled, "compiled": {"wasm": "models/a/model.wasm", "inline": True,
                                                          "shape": SHAPE}}, _variant("ort")]
    # the first digit as numbers, the source and format for people only in manifest.json
    assert copy["samples"] == {"file": "samples.bin", "count": 100, pagecopy.FIRST_PIXELS: list(FIRST)}


def test_the_page_copy_leaves_the_manifest_whole():
    doc = _doc()
    pagecopy.page_copy(doc)
    assert doc == _doc()


def test_the_footer_says_the_first_visit_and_the_whole_bundle():
    assert footer.text(_doc()) == ("This page over the wire (brotli): 30 kB = models 8.7 kB + app 21 kB. "
                                   "The whole bundle, every variant included: 42 kB.")
    assert footer.text({**_doc(), "first_visit": None}) == ""
    page = '<footer><p id="sizes">old</p><p>other</p></footer>'
    assert footer.fill(page, {**_doc(), "sizes": None}) == (
        '<footer><p id="sizes">This page over the wire (brotli): 30 kB = models 8.7 kB + app 21 kB.</p>'
        "<p>other</p></footer>")
