"""The compressor behind the bundle's .gz/.br files and every transfer size the bundle and the search report."""

from __future__ import annotations

import gzip

import brotli
import onnx
import pytest

from edgeshrink.search.edge import measure_edge, ort_web_files
from edgeshrink.web import compress
from edgeshrink.web.compress import Compressor


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


def test_the_search_counts_the_runtime_bytes_a_bundle_ships(web_variants, dist, train_split):
    """A model the compiler refuses is measured on onnxruntime-web: its bytes are the .br files `bundle` writes."""
    fp16 = next(v for v in web_variants if v.name == "fp16-nchw3-sym")
    measured = measure_edge(onnx.load(fp16.model_path), fp16.signature, train_split.images[:50])
    assert measured.runtime.startswith("onnxruntime-web 1.30.")
    assert measured.note == "not compiled: float16 inputs are not supported by the compiled runtime"
    shipped = sum((dist / "ort" / f"{f.name}.br").stat().st_size for f in ort_web_files()[1])
    assert measured.runtime_brotli == shipped
