"""The static server: isolation headers, MIME types, clear errors."""

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


def test_pages_are_cross_origin_isolated(dist):
    with running(dist) as url:
        status, headers, body = _get(url)
    assert status == 200 and b"<canvas id=\"pad\"" in body
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
    with running(dist) as url, pytest.raises(urllib.error.HTTPError) as caught:
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
