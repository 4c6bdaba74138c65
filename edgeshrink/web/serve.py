"""Serve a bundle over HTTP on this machine, as a static host would, with the MIME types browsers require.

Cross-origin isolation (COOP/COEP) is optional: it gives SharedArrayBuffer and precise timers, which
the page does not need (its runtimes run one thread, its benchmark times long enough groups of runs),
and it costs every fresh visit a browser process switch: 20-40 ms before the first prediction on
these machines. Most static hosts do not send it either.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterator

from edgeshrink.errors import BundleError
from edgeshrink.web.compress import ENCODINGS

MIME_TYPES = {
    ".wasm": "application/wasm",  # required for WebAssembly.instantiateStreaming
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".onnx": "application/octet-stream",
    ".bin": "application/octet-stream",
    ".json": "application/json",
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
HEADERS = {
    "Cross-Origin-Resource-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}
# with isolated=True: SharedArrayBuffer and fine-grained performance.now(), and nothing from another origin loads
ISOLATION = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
}


class BundleHandler(SimpleHTTPRequestHandler):
    """Static files (with the isolation headers if the server is isolated), sent as the bundle's .br or .gz
    to browsers that accept them; request lines go to the server's `log`, if any."""

    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}
    vary = False

    def send_head(self):
        path = Path(self.translate_path(self.path))
        if path.is_dir() and self.path.split("?")[0].endswith("/"):
            path = path / "index.html"
        if not path.is_file():
            return super().send_head()  # folders without a slash, missing files: the standard answers
        variants = {enc: path.with_name(path.name + suffix) for enc, suffix in ENCODINGS.items()}
        self.vary = any(p.is_file() for p in variants.values())
        encoding = next((enc for enc in accepted(self.headers.get("Accept-Encoding", ""))
                         if _fresh(variants[enc], path)), None)
        if encoding is None:
            return super().send_head()
        body = open(variants[encoding], "rb")  # noqa: SIM115 - the base class closes it after copying
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", encoding)
        self.send_header("Content-Length", str(os.fstat(body.fileno()).st_size))
        self.send_header("Last-Modified", self.date_time_string(int(path.stat().st_mtime)))
        self.end_headers()
        return body

    def end_headers(self) -> None:
        for name, value in {**HEADERS, **(ISOLATION if self.server.isolated else {})}.items():
            self.send_header(name, value)
        if self.vary:  # caches must keep the encoded and identity answers apart
            self.send_header("Vary", "Accept-Encoding")
        super().end_headers()

    def log_message(self, format: str, *args) -> None:
        if self.server.log:
            self.server.log(format % args)


def _fresh(encoded: Path, original: Path) -> bool:
    """A precompressed copy written after its file: one edited since the bundle was made is sent as it is."""
    try:
        return encoded.stat().st_mtime_ns >= original.stat().st_mtime_ns
    except OSError:
        return False


def accepted(header: str) -> list[str]:
    """The encodings an Accept-Encoding header allows, in our order of preference (brotli, then gzip)."""
    allowed = {}
    for item in header.split(","):
        name, _, params = item.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        allowed[name.strip().lower()] = q
    star = allowed.get("*", 0.0)
    return [enc for enc in ENCODINGS if allowed.get(enc, star) > 0]


class BundleServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler, log: Callable[[str], None] | None = None,
                 isolated: bool = False):
        self.log, self.isolated = log, isolated
        super().__init__(address, handler)

    def handle_error(self, request, client_address) -> None:
        pass  # a browser closing a connection early is not an error worth a traceback

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"


def make_server(dist: str | os.PathLike, host: str = "127.0.0.1", port: int = 8000,
                log: Callable[[str], None] | None = None, isolated: bool = False) -> BundleServer:
    """A server for the bundle in `dist`, bound but not yet serving; port 0 picks a free port; `isolated`
    sends the cross-origin isolation headers."""
    dist = Path(dist)
    if not (dist / "index.html").is_file() or not (dist / "manifest.json").is_file():
        raise BundleError(f"{dist} is not a web bundle (no index.html and manifest.json); run edgeshrink bundle first")
    handler = functools.partial(BundleHandler, directory=str(dist.resolve()))
    try:
        return BundleServer((host, port), handler, log, isolated)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise BundleError(f"port {port} on {host} is already in use; pass another port") from exc
        raise BundleError(f"cannot listen on {host}:{port} ({exc.strerror}); pass another host or port") from exc


def serve(dist: str | os.PathLike, host: str = "127.0.0.1", port: int = 8000,
          log: Callable[[str], None] | None = None, on_ready: Callable[[str], None] | None = None,
          isolated: bool = False) -> None:
    """Serve `dist` until interrupted; `on_ready(url)` is called once the server listens."""
    with make_server(dist, host, port, log, isolated) as server:
        if on_ready:
            on_ready(server.url)
        server.serve_forever()


@contextlib.contextmanager
def running(dist: str | os.PathLike, host: str = "127.0.0.1", port: int = 0,
            isolated: bool = False) -> Iterator[str]:
    """Serve `dist` from a background thread for the duration of the block; yields the page's URL."""
    server = make_server(dist, host, port, isolated=isolated)
    thread = threading.Thread(target=server.serve_forever, name="edgeshrink-serve", daemon=True)
    thread.start()
    try:
        yield server.url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
