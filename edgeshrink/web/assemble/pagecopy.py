"""The manifest as index.html carries it: only the fields the page reads from it.

Every byte of index.html comes before the first answer, and most of the manifest is for tools and people (sizes,
first-visit tables, the verification record, descriptions): the page shows those as HTML the bundle renders
(picker.py, footer.py) or not at all. manifest.json stays the whole record.
"""

from __future__ import annotations

import base64

# The fields of the page's copy, the one list of them: what index.html's boot script and js/app.js read before
# and at the first answer, and the gallery's file and count, which js/later.js reads after it (a few bytes here
# spare the first visit a request for manifest.json).
PAGE_FIELDS = ("default", "ort", "samples", "variants")
SAMPLES_FIELDS = ("file", "count")
# each variant's: where its runtime and model are, and how it is fed and read (signature.js, backends/ort.js),
# for the shown variant and any other the visitor picks
VARIANT_FIELDS = ("name", "file", "runtime", "compiled", "input_name", "layout", "batch", "dtype", "preprocess",
                  "output_index", "output_kind")
COMPILED_FIELDS = ("wasm", "inline", "shape")  # not its loader (entry): the page runs the wasm itself
ORT_FIELDS = ("file", "input_name", "output_index")  # what only onnxruntime-web reads (backends/ort.js)
# The first test digit, which the first answer classifies (manifest.json: `samples.first`, base64): in the
# page as its 784 numbers, 99 B after brotli in tiny's page against 260 B for base64 or 160 B for base64 of its
# box of ink (measured), and read without a decoder.
FIRST_PIXELS = "first_pixels"


def page_copy(manifest: dict) -> dict:
    """What index.html carries of `manifest`: PAGE_FIELDS, each variant's VARIANT_FIELDS, the gallery's
    SAMPLES_FIELDS and its first digit as numbers."""
    copy = {key: manifest[key] for key in PAGE_FIELDS if key in manifest}
    if "variants" in copy:
        copy["variants"] = [{key: v[key] for key in VARIANT_FIELDS if key in v} for v in copy["variants"]]
        for v in copy["variants"]:
            if v.get("compiled"):
                v["compiled"] = {key: v["compiled"][key] for key in COMPILED_FIELDS if key in v["compiled"]}
                for key in ORT_FIELDS:
                    v.pop(key, None)
    samples = copy.get("samples")
    if samples is not None:
        copy["samples"] = {key: samples[key] for key in SAMPLES_FIELDS if key in samples}
        if "first" in samples:
            copy["samples"][FIRST_PIXELS] = list(base64.b64decode(samples["first"]))
    return copy
