"""Serve a bundle over HTTP on this machine, cross-origin isolated, with the MIME types browsers require."""

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
# Cross-origin isolation: makes SharedArrayBuffer and fine-grained performance.now() available, and
# proves the page needs nothing from another origin.
HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


class BundleHandler(SimpleHTTPRequestHandler):
    """Static files with isolation headers; request lines go to the server's `log`, if any."""

    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}

    def end_headers(self) -> None:
        for name, value in HEADERS.items():
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args) -> None:
        if self.server.log:
            self.server.log(format % args)


class BundleServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler, log: Callable[[str], None] | None = None):
        self.log = log
        super().__init__(address, handler)

    def handle_error(self, request, client_address) -> None:
        pass  # a browser closing a connection early is not an error worth a traceback

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"


def make_server(dist: str | os.PathLike, host: str = "127.0.0.1", port: int = 8000,
                log: Callable[[str], None] | None = None) -> BundleServer:
    """A server for the bundle in `dist`, bound but not yet serving; port 0 picks a free port."""
    dist = Path(dist)
    if not (dist / "index.html").is_file() or not (dist / "manifest.json").is_file():
        raise BundleError(f"{dist} is not a web bundle (no index.html and manifest.json); run edgeshrink bundle first")
    handler = functools.partial(BundleHandler, directory=str(dist.resolve()))
    try:
        return BundleServer((host, port), handler, log)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise BundleError(f"port {port} on {host} is already in use; pass another port") from exc
        raise BundleError(f"cannot listen on {host}:{port} ({exc.strerror}); pass another host or port") from exc


def serve(dist: str | os.PathLike, host: str = "127.0.0.1", port: int = 8000,
          log: Callable[[str], None] | None = None, on_ready: Callable[[str], None] | None = None) -> None:
    """Serve `dist` until interrupted; `on_ready(url)` is called once the server listens."""
    with make_server(dist, host, port, log) as server:
        if on_ready:
            on_ready(server.url)
        server.serve_forever()


@contextlib.contextmanager
def running(dist: str | os.PathLike, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve `dist` from a background thread for the duration of the block; yields the page's URL."""
    server = make_server(dist, host, port)
    thread = threading.Thread(target=server.serve_forever, name="edgeshrink-serve", daemon=True)
    thread.start()
    try:
        yield server.url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
