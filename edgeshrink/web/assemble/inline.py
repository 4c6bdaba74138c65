"""index.html with what the first answer needs inside it: the stylesheet, the app's code and, when it is
small, the default variant's compiled model; the first answer then needs one response.

On a phone's network every request after the page costs a round trip (100-150 ms on 4g) that the
browser cannot start before it has read the page. A compiled model's wasm travels as text, one character
per byte, each byte rotated by the k that packs best (wasmtext.py; base64 was a third worse than the wasm):
bench/page_ab.md weighs the round trip saved against the bytes, and MODEL_MAX the size up to which the page
carries the model.
"""

from __future__ import annotations

import json
import re
from html import escape
from pathlib import Path

from edgeshrink.errors import BundleError
from edgeshrink.web.assemble import minify, wasmtext
from edgeshrink.web.assemble.compress import compress

STYLE = '<link rel="stylesheet" href="style.css">'
SCRIPT = '<script type="module" src="js/app.js"></script>'
APP_ELEMENTS = (("<style>", "</style>"), ('<script type="module">', "</script>"))  # where page() puts them
# The carried model: its wasm as wasmtext.as_text, the variant's name and the rotation as data-name, data-rotation
WASM_ELEMENT = '<script type="application/octet-stream" id="inline-wasm">'
# The largest compiled model (brotli bytes of its wasm) the page carries: at 1.6 Mbit/s with 150 ms round
# trips (slow-4g), the third more bytes of base64 cost a round trip at about 60 KB (measured when the wasm
# travelled as base64; as text it costs less, so this errs towards a request of its own).
MODEL_MAX = 48_000


def page(html: str, css: str, js: str) -> str:
    """The page's HTML without comments or indentation, its own scripts minified, with the stylesheet `css`
    and the module `js` (the joined app) inside it."""
    for tag in (STYLE, SCRIPT):
        if html.count(tag) != 1:
            raise BundleError(f"index.html needs one {tag} for the bundle to put inside it; rebuild the bundle "
                              "from the page edgeshrink ships")
    html = re.sub(r"<!--.*?-->", "", html, flags=re.S)
    html = re.sub(r"(<script>)(.*?)(</script>)", lambda m: m[1] + minify.js(m[2]) + m[3], html, flags=re.S)
    html = re.sub(r"\n\s*", "\n", html).strip() + "\n"
    (style_start, style_end), (script_start, script_end) = APP_ELEMENTS
    html = html.replace(STYLE, f"{style_start}{minify.css(css)}{style_end}")
    return html.replace(SCRIPT, f"{script_start}{_script_text(minify.js(js))}{script_end}")


def element(html: str, element_id: str, value) -> str:
    """`html` with `value` as the JSON of its <script type="application/json" id=element_id> (compact; every
    '<' escaped, so no text in it ends the element)."""
    pattern = re.compile(rf'(<script type="application/json" id="{element_id}">)(.*?)(</script>)', re.S)
    if len(pattern.findall(html)) != 1:
        raise BundleError(f'index.html needs one <script type="application/json" id="{element_id}"> element; '
                          "rebuild the bundle from the page edgeshrink ships")
    text = json.dumps(value, separators=(",", ":")).replace("<", "\\u003c")
    return pattern.sub(lambda m: m.group(1) + text + m.group(3), html)


def carries(wasm: bytes) -> bool:
    """Whether the page should carry this compiled model rather than fetch it."""
    return len(compress(wasm)[1]) <= MODEL_MAX


def model(html: str, name: str, wasm: bytes, cache_dir: Path | None = None) -> str:
    """`html` carrying variant `name`'s compiled model (its wasm, which the page runs with its `load`) as the text
    that packs best (wasmtext.rotation, kept in `cache_dir` if given)."""
    rotation = wasmtext.rotation(wasm, cache_dir)
    empty = WASM_ELEMENT + "</script>"
    if html.count(empty) != 1:
        raise BundleError(f"index.html needs one empty {WASM_ELEMENT} element; rebuild the bundle from the page "
                          "edgeshrink ships")
    start = f'{WASM_ELEMENT[:-1]} data-name="{escape(name)}" data-rotation="{rotation}">'
    return html.replace(empty, start + wasmtext.as_text(wasm, rotation) + "</script>")


def _script_text(js: str) -> str:
    if "<!--" in js:
        raise BundleError("the page's script has '<!--', which would change how index.html is read; write it "
                          "another way")
    return js.replace("</script", "<\\/script")
