"""The static server: headers (isolation when asked), MIME types, clear errors."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request

import pytest

from edgeshrink.errors import BundleError
from edgeshrink.web import make_server, running


def _get(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers, response.read()


def test_pages_are_served_as_a_static_host_would(dist):
    with running(dist) as url:
        status, headers, body = _get(url)
    assert status == 200 and b"<canvas id=\"pad\"" in body
    assert headers["Cross-Origin-Opener-Policy"] is None and headers["Cross-Origin-Embedder-Policy"] is None
    assert headers["Cross-Origin-Resource-Policy"] == "same-origin"


def test_isolated_pages_are_cross_origin_isolated(dist):
    with running(dist, isolated=True) as url:
        status, headers, _ = _get(url)
    assert status == 200
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["Cross-Origin-Embedder-Policy"] == "require-corp"
    assert headers["Cross-Origin-Resource-Policy"] == "same-origin"


@pytest.mark.parametrize("path, mime", [
    ("ort/ort-wasm-simd-threaded.wasm", "application/wasm"),
    ("ort/ort.wasm.min.mjs", "text/javascript"),
    ("js/app.js", "text/javascript"),
    ("models/fp32.onnx", "application/octet-stream"),
    ("manifest.json", "application/json"),
])
def test_files_have_the_mime_types_browsers_require(dist, path, mime):
    with running(dist) as url:
        status, headers, body = _get(url + path)
    assert status == 200
    assert headers["Content-Type"] == mime
    assert body == (dist / path).read_bytes()


def test_missing_file_is_404_with_the_same_headers(dist):
    with running(dist, isolated=True) as url, pytest.raises(urllib.error.HTTPError) as caught:
        _get(url + "models/nothing.onnx")
    assert caught.value.code == 404
    assert caught.value.headers["Cross-Origin-Embedder-Policy"] == "require-corp"


def test_listens_on_loopback_by_default(dist):
    with running(dist) as url:
        assert url.startswith("http://127.0.0.1:")


def test_a_folder_without_a_bundle_is_refused(tmp_path):
    with pytest.raises(BundleError, match="is not a web bundle.*edgeshrink bundle"):
        make_server(tmp_path, port=0)


def test_a_busy_port_says_so(dist):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(BundleError, match=f"port {port} .* already in use; pass another port"):
            make_server(dist, port=port)


def _get_encoded(url: str, accept: str | None):
    request = urllib.request.Request(url, headers={"Accept-Encoding": accept} if accept else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers, response.read()


@pytest.mark.parametrize("accept, encoding", [
    ("gzip, deflate, br, zstd", "br"),  # Chromium's header
    ("gzip", "gzip"),
    ("br;q=0, gzip;q=0.5", "gzip"),
    ("identity", None),
    (None, None),
])
def test_precompressed_files_are_sent_to_clients_that_accept_them(dist, accept, encoding):
    import gzip

    import brotli

    with running(dist) as url:
        headers, body = _get_encoded(url + "js/app.js", accept)
    assert headers["Vary"] == "Accept-Encoding" and headers["Content-Type"] == "text/javascript"
    assert headers.get("Content-Encoding") == encoding and int(headers["Content-Length"]) == len(body)
    decode = {"br": brotli.decompress, "gzip": gzip.decompress, None: lambda b: b}[encoding]
    assert decode(body) == (dist / "js" / "app.js").read_bytes()


def test_a_file_edited_after_bundling_is_sent_as_it_is(dist, tmp_path):
    import shutil

    copy = tmp_path / "dist"
    shutil.copytree(dist, copy)  # copy2 keeps the times: .br and .gz stay newer than their files
    (copy / "style.css").write_text("body { color: red; }\n")
    with running(copy) as url:
        headers, body = _get_encoded(url + "style.css", "br, gzip")
        fresh_headers, _ = _get_encoded(url + "js/app.js", "br, gzip")
    assert headers.get("Content-Encoding") is None and body == b"body { color: red; }\n"
    assert fresh_headers["Content-Encoding"] == "br"
