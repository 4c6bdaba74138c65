"""The static server: headers (isolation when asked), MIME types, clear errors, and the bundle's files only."""

from __future__ import annotations

import gzip
import http.client
import os
import shutil
import socket
import urllib.error
import urllib.parse
import urllib.request

import brotli
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
    ("js/later.js", "text/javascript"),
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
    with running(dist) as url:
        headers, body = _get_encoded(url + "js/later.js", accept)
    assert headers["Vary"] == "Accept-Encoding" and headers["Content-Type"] == "text/javascript"
    assert headers.get("Content-Encoding") == encoding and int(headers["Content-Length"]) == len(body)
    decode = {"br": brotli.decompress, "gzip": gzip.decompress, None: lambda b: b}[encoding]
    assert decode(body) == (dist / "js" / "later.js").read_bytes()


def _raw(url: str, target: bytes, accept: str = "br, gzip", headers: str = "") -> http.client.HTTPResponse:
    """A GET of `target` exactly as given (no client cleans it up), and the server's answer, read."""
    address = urllib.parse.urlsplit(url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as conn:
        conn.sendall(b"GET " + target + f" HTTP/1.1\r\nHost: x\r\nAccept-Encoding: {accept}\r\n{headers}"
                     "Connection: close\r\n\r\n".encode())
        response = http.client.HTTPResponse(conn)
        response.begin()
        response.body = response.read()
    return response


@pytest.fixture(scope="module")
def own(dist, tmp_path_factory):
    """A copy of the bundle to change, with links out of it (to a file, to a folder, up), a link inside it, a
    .br that links out, a pipe and a folder with a page; and the outside folder, holding a secret."""
    root = tmp_path_factory.mktemp("own")
    outside = root / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    app = (dist / "js" / "later.js").read_bytes()
    (outside / "later.js.br").write_bytes(brotli.compress(app, quality=1))  # holds later.js, but is not the bundle's
    copy = root / "dist"
    shutil.copytree(dist, copy)  # copy2 keeps the times: .br and .gz stay newer than their files
    (copy / "leak.txt").symlink_to(outside / "secret.txt")
    (copy / "out").symlink_to(outside)
    (copy / "up").symlink_to("..")
    (copy / "js" / "later.js.br").unlink()
    (copy / "js" / "later.js.br").symlink_to(outside / "later.js.br")
    (copy / "page.html").symlink_to("index.html")
    os.mkfifo(copy / "pipe")
    (copy / "sub").mkdir()
    (copy / "sub" / "index.html").write_text("<p>sub</p>")
    with running(copy) as url:
        yield copy, url


@pytest.mark.parametrize("path", ["leak.txt", "out/secret.txt", "out/", "out", "up/outside/secret.txt", "up/",
                                  "pipe", "models", "models/"])
def test_nothing_outside_the_bundle_is_served_links_included(own, path):
    _, url = own
    response = _raw(url, f"/{path}".encode())
    assert response.status == 404 and b"secret" not in response.body and b"outside" not in response.body


def test_a_link_inside_the_bundle_is_followed(own):
    copy, url = own
    response = _raw(url, b"/page.html", accept="identity")
    assert response.status == 200 and response.body == (copy / "index.html").read_bytes()


def test_a_precompressed_copy_that_links_out_is_not_sent(own):
    copy, url = own
    only_br = _raw(url, b"/js/later.js", accept="br")
    assert only_br.getheader("Content-Encoding") is None and only_br.body == (copy / "js" / "later.js").read_bytes()
    assert _raw(url, b"/js/later.js", accept="br, gzip").getheader("Content-Encoding") == "gzip"
    assert _raw(url, b"/js/later.js.br").status == 404


def test_a_folder_with_a_page_is_redirected_to_its_slash(own):
    _, url = own
    response = _raw(url, b"/sub?x=1")
    assert response.status == 301 and response.getheader("Location") == "/sub/?x=1"
    assert _raw(url, b"/sub/", accept="identity").body == b"<p>sub</p>"


@pytest.mark.parametrize("page", ["", "index.html", "manifest.json"])
def test_a_fresh_bundle_sends_its_page_and_manifest_brotli_compressed(dist, site, page):
    response = _raw(site, f"/{page}".encode(), accept="gzip, deflate, br, zstd")
    assert response.status == 200 and response.getheader("Content-Encoding") == "br"
    assert brotli.decompress(response.body) == (dist / (page or "index.html")).read_bytes()
    assert len(response.body) < (dist / (page or "index.html")).stat().st_size / 2


def test_copies_are_chosen_by_content_not_by_time(own):
    copy, url = own
    os.utime(copy / "icon.svg.br", (0, 0))  # older than its file, as after a copy that loses times: still right
    (copy / "samples.bin").write_bytes(b"edited")
    os.utime(copy / "samples.bin", (0, 0))  # an edit that leaves the file older than its now stale copies
    kept = _raw(url, b"/icon.svg")
    edited = _raw(url, b"/samples.bin")
    assert kept.getheader("Content-Encoding") == "br"
    assert brotli.decompress(kept.body) == (copy / "icon.svg").read_bytes()
    assert edited.getheader("Content-Encoding") is None and edited.body == b"edited"


@pytest.mark.parametrize("target", [
    b"/%00", b"/index.html%00.txt", b"/%zz", b"/%4", b"/%ff", b"/%ed%a0%80", b"/caf\xc3\xa9", b"/a%0ab",
    b"/..", b"/../etc/passwd", b"/js/../index.html", b"/%2e%2e/%2e%2e/etc/passwd", b"/..%2f..%2fetc%2fpasswd",
    b"/out%2fsecret.txt", b"/./index.html", b"index.html",
])
def test_malformed_paths_get_400_without_a_traceback(site, target):
    response = _raw(site, target)
    assert response.status == 400 and b"malformed path" in response.body
    assert b"Traceback" not in response.body and b"root:" not in response.body
    assert _raw(site, b"/").status == 200  # and the server goes on


@pytest.mark.parametrize("path, mime", [("index.html.br", "application/octet-stream"),
                                        ("index.html.gz", "application/gzip"),
                                        ("models/fp32.onnx.br", "application/octet-stream")])
def test_a_compressed_copy_asked_for_by_name_is_sent_as_that_file(dist, site, path, mime):
    response = _raw(site, f"/{path}".encode())
    assert response.status == 200 and response.getheader("Content-Type") == mime
    assert response.getheader("Content-Encoding") is None and response.body == (dist / path).read_bytes()


def test_an_unchanged_file_is_not_sent_again(site):
    modified = _raw(site, b"/index.html").getheader("Last-Modified")
    response = _raw(site, b"/index.html", headers=f"If-Modified-Since: {modified}\r\n")
    assert response.status == 304 and response.body == b""
