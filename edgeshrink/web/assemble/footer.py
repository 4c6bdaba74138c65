"""The page's footer line of its own sizes, rendered into index.html from the manifest (as picker.py renders the
model cards): the page then needs no manifest fields and no code for it. The words and numbers read as the page
wrote them before, once its gallery had loaded."""

from __future__ import annotations

import html
import re

from edgeshrink.web.assemble.picker import format_bytes
from edgeshrink.web.assemble.transfer import PARTS

_SIZES = re.compile(r'(<p id="sizes">)(.*?)(</p>)', re.S)


def fill(page: str, manifest: dict) -> str:
    """`page` with the sizes of `manifest` in its <p id="sizes"> (a page without one as it is)."""
    return _SIZES.sub(lambda m: m[1] + html.escape(text(manifest)) + m[3], page, count=1)


def text(manifest: dict) -> str:
    """'This page over the wire (brotli): ... = app ....' of the first visit, and the whole bundle's size; or ''
    before the bundle knows its sizes."""
    visit = manifest.get("first_visit")
    if not visit:
        return ""
    parts = " + ".join(f"{part} {format_bytes(visit[part]['brotli'])}" for part in PARTS
                       if (visit.get(part) or {}).get("brotli"))
    total = (manifest.get("sizes") or {}).get("total")
    whole = f" The whole bundle, every variant included: {format_bytes(total['brotli'])}." if total else ""
    return f"This page over the wire (brotli): {format_bytes(visit['total']['brotli'])} = {parts}.{whole}"
