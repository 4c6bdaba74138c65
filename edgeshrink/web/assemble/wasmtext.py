"""A compiled model's wasm as the text index.html carries: one character per byte, each byte rotated by k first.

The characters are U+0000-U+00FF (U+0080-U+00FF cost two bytes in UTF-8), which brotli packed 3-11% worse than
the wasm itself. Adding a constant k to every byte (mod 256) moves the bytes a module uses most to one-byte
characters; which k packs best differs by module and is not foreseeable, so `rotation` measures all 256
(brotli of the text: tiny's wasm 5,150 B with k=0, 4,904 B at its best k; LeNet-5 max 5,142 -> 5,026 B, micro
3,858 -> 3,657 B). The text alone, not the page: a page's brotli swings by +-60 B with any change of a few bytes
anywhere in it (measured on tiny's page), so the k that measures best in one page is luck, not a better k; the
text's own gain stays (tiny's page, median of 16 such changes: 12,940 B with k=0, 12,706 B with its k).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from edgeshrink.atomic import write_bytes
from edgeshrink.web.assemble.compress import compress

# Bytes the HTML parser would change (NUL, CR) or that could end the element ('<'), after the rotation: U+0100 +
# the byte, which the page reads back the same way as the byte (code & 255)
_ESCAPED = {0x00: "\u0100", 0x0D: "\u010d", 0x3C: "\u013c"}


def as_text(data: bytes, rotation: int = 0) -> str:
    """`data` as one character per byte, (byte + rotation) & 255, which the page reads back as
    (code - rotation) & 255: U+0000-U+00FF, except the bytes an HTML parser would change or end the element
    with (_ESCAPED)."""
    if not 0 <= rotation <= 255:
        raise ValueError(f"a rotation is 0 to 255, not {rotation}")
    table = bytes((b + rotation) & 255 for b in range(256))
    return data.translate(table).decode("latin-1").translate(_ESCAPED)


def from_text(text: str, rotation: int = 0) -> bytes:
    """The bytes `as_text(data, rotation)` was made from (the page's decoding, in Python)."""
    return bytes((ord(c) - rotation) & 255 for c in text)


def rotation(data: bytes, cache_dir: Path | None = None) -> int:
    """The rotation k (0-255) whose text is smallest after brotli and no larger after gzip than k=0's, the
    first such k on a tie. Measuring takes seconds (256 brotli runs at quality 11): the answer is kept in
    `cache_dir`, if given, by the bytes' SHA-256."""
    if cache_dir is None:
        return _measured(data)
    memo = Path(cache_dir) / f"{hashlib.sha256(data).hexdigest()}.rotation"
    try:
        k = int(memo.read_text())
        if 0 <= k <= 255:
            return k
    except (OSError, ValueError):
        pass  # not measured yet (or a memo that is not a rotation): measured again
    k = _measured(data)
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        write_bytes(memo, str(k).encode())
    except OSError:
        pass  # a memo that cannot be written only costs time next run
    return k


def _measured(data: bytes) -> int:
    sizes = {}  # k -> (brotli, gzip) of its text, as the bundle measures them
    for k in range(256):
        gz, br = compress(as_text(data, k).encode())
        sizes[k] = (len(br), len(gz))
    return min((k for k in sizes if sizes[k][1] <= sizes[0][1]), key=lambda k: (sizes[k][0], k))
