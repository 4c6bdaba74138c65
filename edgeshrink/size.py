"""Bytes as a browser downloads them: raw, gzip (level 9) and brotli (quality 11)."""

from __future__ import annotations

import gzip
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Size:
    """Bytes of a model or of some files, uncompressed and as gzip -9 and brotli -q 11 would send them."""

    raw: int = 0
    gzip: int = 0
    brotli: int = 0

    def __add__(self, other: "Size") -> "Size":
        return Size(self.raw + other.raw, self.gzip + other.gzip, self.brotli + other.brotli)

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def measure(data: bytes) -> Size:
    import brotli

    return Size(len(data), len(gzip.compress(data, compresslevel=9, mtime=0)), len(brotli.compress(data, quality=11)))
