"""Files written with their .gz and .br beside them, as a static host sends them to browsers that accept them."""

from __future__ import annotations

import gzip
import hashlib
import os
import threading
import zlib
from pathlib import Path
from typing import BinaryIO, Iterator

from edgeshrink.size import Size

ENCODINGS = {"br": ".br", "gzip": ".gz"}  # Content-Encoding -> suffix of the precompressed file
_CHUNK = 1 << 16


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


def decodes_to(encoded: BinaryIO, encoding: str, original: BinaryIO) -> bool:
    """Whether `encoded` (a .br or .gz, by its Content-Encoding) decompresses to exactly the bytes of `original`.

    Both are read in chunks and compared as they come, so a stale copy stops at its first difference and one
    that expands without end stops past the original's length."""
    import brotli

    try:
        for chunk in _decoded(encoded, encoding):
            if chunk and original.read(len(chunk)) != chunk:
                return False
    except (OSError, ValueError, zlib.error, brotli.error):
        return False
    return original.read(1) == b""


def _decoded(stream: BinaryIO, encoding: str) -> Iterator[bytes]:
    """The decompressed bytes of `stream`, about _CHUNK at a time; ValueError if it is cut short or goes on."""
    if encoding == "gzip":
        gz = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # one gzip member; its CRC is checked at the end
        while not gz.eof:
            data = gz.unconsumed_tail or stream.read(_CHUNK)
            yield gz.decompress(data, _CHUNK) if data else gz.flush()
            if not data and not gz.eof:
                raise ValueError("the gzip stream is cut short")
        trailing = gz.unused_data or stream.read(1)
    else:
        import brotli

        br = brotli.Decompressor()
        while not br.is_finished():
            data = stream.read(_CHUNK) if br.can_accept_more_data() else b""
            out = br.process(data, output_buffer_limit=_CHUNK)
            if not data and not out and not br.is_finished():
                raise ValueError("the brotli stream is cut short")
            yield out
        trailing = stream.read(1)
    if trailing:
        raise ValueError(f"data after the end of the {encoding} stream")


class FreshCopies:
    """Which precompressed copies hold their file's current bytes: each is decompressed and compared once, and
    the answer kept while neither file changes (same inode, size, mtime and ctime).

    By content, not by modification time: times do not survive every copy, checkout or upload, and a copy
    judged by them can be stale or refused for nothing. The first request for a file pays one decompression
    (~40 ms for onnxruntime-web's 12 MB wasm); the next ones a dictionary lookup."""

    def __init__(self):
        self._known: dict[tuple[int, int], tuple[tuple, bool]] = {}
        self._lock = threading.Lock()

    def hold(self, copy: tuple[BinaryIO, os.stat_result], encoding: str,
             original: tuple[BinaryIO, os.stat_result]) -> bool:
        """Whether the open `copy` (file, status) decompresses to the open `original`; both are left at their start."""
        key, state = (copy[1].st_dev, copy[1].st_ino), (_identity(copy[1]), _identity(original[1]))
        with self._lock:
            known = self._known.get(key)
        if known is not None and known[0] == state:
            return known[1]
        answer = decodes_to(copy[0], encoding, original[0])
        for stream, _ in (copy, original):
            stream.seek(0)
        with self._lock:
            self._known[key] = (state, answer)
        return answer


def _identity(status: os.stat_result) -> tuple:
    return status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns
