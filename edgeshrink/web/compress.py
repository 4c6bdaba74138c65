"""Files written with their .gz and .br beside them, as a static host sends them to browsers that accept them."""

from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

from edgeshrink.size import Size

ENCODINGS = {"br": ".br", "gzip": ".gz"}  # Content-Encoding -> suffix of the precompressed file


def compress(data: bytes) -> tuple[bytes, bytes]:
    """gzip -9 and brotli -q 11 of `data`, the same settings `size.measure` counts."""
    import brotli

    return gzip.compress(data, compresslevel=9, mtime=0), brotli.compress(data, quality=11)


class Compressor:
    """Writes files with their .gz and .br; keeps the compressed forms of large files in `cache_dir` by
    SHA-256, because brotli at quality 11 takes ~45 s on onnxruntime-web's 14 MB wasm."""

    LARGE = 1 << 20

    def __init__(self, cache_dir: str | os.PathLike | None = None):
        self.cache_dir = Path(cache_dir) if cache_dir else None

    def write(self, data: bytes, target: Path) -> Size:
        """Write `data` to target, target.gz and target.br; the three sizes."""
        gz, br = self._compressed(data)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        target.with_name(target.name + ENCODINGS["gzip"]).write_bytes(gz)
        target.with_name(target.name + ENCODINGS["br"]).write_bytes(br)
        return Size(len(data), len(gz), len(br))

    def copy(self, source: Path, target: Path) -> Size:
        return self.write(Path(source).read_bytes(), target)

    def size(self, data: bytes) -> Size:
        """The three sizes of `data`, writing nothing but the cache."""
        gz, br = self._compressed(data)
        return Size(len(data), len(gz), len(br))

    def _compressed(self, data: bytes) -> tuple[bytes, bytes]:
        if self.cache_dir is None or len(data) < self.LARGE:
            return compress(data)
        stem = self.cache_dir / hashlib.sha256(data).hexdigest()
        gz_path, br_path = stem.with_suffix(".gz"), stem.with_suffix(".br")
        try:
            return gz_path.read_bytes(), br_path.read_bytes()
        except OSError:
            pass
        gz, br = compress(data)
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            for path, blob in ((gz_path, gz), (br_path, br)):
                tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
                tmp.write_bytes(blob)
                os.replace(tmp, path)
        except OSError:
            pass  # a cache that cannot be written only costs time next run
        return gz, br


def is_precompressed(path: Path) -> bool:
    """A .gz or .br written beside another file of the bundle."""
    return path.suffix in ENCODINGS.values() and path.with_suffix("").is_file()
