"""The compressor behind the bundle's .gz/.br files and every transfer size the bundle and the search report."""

from __future__ import annotations

import gzip
import io
import os

import brotli
import onnx
import pytest

from edgeshrink.search.edge import measure_edge, ort_web_files
from edgeshrink.web.assemble import compress
from edgeshrink.web.assemble.compress import Compressor


def test_size_is_what_write_writes(tmp_path):
    data = b"edgeshrink " * 2_000
    written = Compressor().write(data, tmp_path / "a.js")
    assert Compressor().size(data) == written
    assert gzip.decompress((tmp_path / "a.js.gz").read_bytes()) == data
    assert brotli.decompress((tmp_path / "a.js.br").read_bytes()) == data
    assert (written.raw, written.gzip, written.brotli) == (
        len(data), (tmp_path / "a.js.gz").stat().st_size, (tmp_path / "a.js.br").stat().st_size)


def test_a_large_file_is_compressed_once_and_then_read_from_the_cache(tmp_path, monkeypatch):
    data = bytes(range(256)) * (Compressor.LARGE // 256 + 1)
    first = Compressor(tmp_path / "cache").size(data)
    assert len(list((tmp_path / "cache").iterdir())) == 2  # its .gz and .br, by SHA-256

    def recompressed(_data):
        raise AssertionError("compressed again instead of read from the cache")

    monkeypatch.setattr(compress, "compress", recompressed)
    assert Compressor(tmp_path / "cache").size(data) == first
    with pytest.raises(AssertionError):
        Compressor().size(data)  # without a cache folder it compresses every time


_DATA = bytes(range(256)) * 1_000  # several of decodes_to's chunks


@pytest.mark.parametrize("encoding, encoded, holds", [
    ("br", brotli.compress(_DATA), True),
    ("gzip", gzip.compress(_DATA), True),
    ("br", brotli.compress(b""), False),  # a copy of an older file
    ("gzip", gzip.compress(_DATA[:-1] + b"x"), False),
    ("br", brotli.compress(_DATA)[:-5], False),  # cut short
    ("gzip", gzip.compress(_DATA)[:-5], False),
    ("br", brotli.compress(_DATA) + b"x", False),  # data after its end
    ("gzip", gzip.compress(_DATA) + b"x", False),
    ("br", b"not brotli", False),
    ("gzip", gzip.compress(_DATA, mtime=0) + gzip.compress(b"", mtime=0), False),  # a second member
    ("br", brotli.compress(b"\0" * (1 << 28)), False),  # 256 MB from ~10 KB: stops past the original's length
])
def test_a_copy_holds_its_file_only_if_it_decompresses_to_it(encoding, encoded, holds):
    assert compress.decodes_to(io.BytesIO(encoded), encoding, io.BytesIO(_DATA)) is holds


def test_a_copy_is_checked_again_only_when_a_file_changes(tmp_path, monkeypatch):
    (tmp_path / "a.js").write_bytes(_DATA)
    (tmp_path / "a.js.br").write_bytes(brotli.compress(_DATA))
    checks = []
    real = compress.decodes_to
    monkeypatch.setattr(compress, "decodes_to", lambda *args: checks.append(1) or real(*args))
    fresh = compress.FreshCopies()

    def hold() -> bool:
        with open(tmp_path / "a.js.br", "rb") as copy, open(tmp_path / "a.js", "rb") as original:
            opened = [(f, os.fstat(f.fileno())) for f in (copy, original)]
            return fresh.hold(opened[0], "br", opened[1])

    assert hold() and hold() and len(checks) == 1
    (tmp_path / "a.js").write_bytes(_DATA[::-1])
    assert not hold() and len(checks) == 2


def test_the_search_counts_the_runtime_bytes_a_bundle_ships(web_variants, dist, train_split):
    """A model the compiler refuses is measured on onnxruntime-web: its bytes are the .br files `bundle` writes."""
    fp16 = next(v for v in web_variants if v.name == "fp16-nchw3-sym")
    measured = measure_edge(onnx.load(fp16.model_path), fp16.signature, train_split.images[:50])
    assert measured.runtime.startswith("onnxruntime-web 1.30.")
    assert measured.note == "not compiled: float16 inputs are not supported by the compiled runtime"
    shipped = sum((dist / "ort" / f"{f.name}.br").stat().st_size for f in ort_web_files()[1])
    assert measured.runtime_brotli == shipped
