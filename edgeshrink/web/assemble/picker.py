"""The page's model picker, rendered from the manifest into index.html: one card per variant with its accuracy,
size, parameters and latency.

The cards are there at the page's first paint and the page's code only marks the shown one and listens to
clicks, so the first response carries no code to build them. `manifest.embed` renders them whenever it puts the
manifest inside the page (bundle, and verify after it adds what it measured in Chromium). The numbers read as
the page wrote them before: `1.2 kB`, `5,994`, `97.00 %`, `0.85 ms`, `120 µs`, and `–` where one is unknown.
"""

from __future__ import annotations

import html
import re

# index.html's picker (<div id="models" ...>, its cards) up to the element after it: the cards have <div>s too
_PICKER = re.compile(r'(<div id="models"[^>]*>)(.*?)(</div>\s*<div class="bench">)', re.S)


def fill(page: str, manifest: dict) -> str:
    """`page` with a card per variant of `manifest` in its picker (a page without a picker as it is)."""
    return _PICKER.sub(lambda m: m[1] + cards(manifest) + m[3], page, count=1)


def cards(manifest: dict) -> str:
    return "".join(_card(v, v["name"] == manifest.get("default")) for v in manifest["variants"])


def _card(v: dict, checked: bool) -> str:
    browser = (v.get("browser") or {}).get("latency_ms")
    nonzero, params = v.get("nonzero_params"), v.get("params")
    facts = {
        "size": f"{format_bytes(v.get('bytes'))} · gzip {format_bytes(v.get('gzip_bytes'))}",
        "params": (f"{format_count(nonzero)} of {format_count(params)}"
                   if nonzero is not None and params is not None and nonzero < params else format_count(params)),
        "latency": (f"{format_ms(browser)} browser · " if browser is not None else "") + f"{format_ms(v.get('latency_ms'))} native",
    }
    name = html.escape(v["name"])
    accuracy = "–" if v.get("accuracy") is None else f"{v['accuracy'] * 100:.2f} %"
    description = f'<p class="model-desc">{html.escape(v["description"])}</p>' if v.get("description") else ""
    rows = "".join(f"<dt>{k}</dt><dd>{html.escape(text)}</dd>" for k, text in facts.items())
    return (f'<button type="button" class="model" role="radio" aria-checked="{str(checked).lower()}" '
            f'data-model="{name}"><div class="model-head"><span class="model-name">{name}</span>'
            f'<span class="model-acc">{accuracy}</span></div>{description}<dl class="model-facts">{rows}</dl></button>')


def format_bytes(n: int | None) -> str:
    if n is None:
        return "–"
    if n < 1000:
        return f"{n} B"
    if n < 1e6:
        return f"{n / 1e3:.{1 if n < 1e4 else 0}f} kB"
    return f"{n / 1e6:.2f} MB"


def format_count(n: int | None) -> str:
    return "–" if n is None else f"{n:,}"


def format_ms(ms: float | None) -> str:
    if ms is None:
        return "–"
    return f"{ms * 1000:.0f} µs" if ms < 1 else f"{ms:.{2 if ms < 10 else 1}f} ms"
