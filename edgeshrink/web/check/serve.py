"""Serve a bundle over HTTP on this machine, as a static host would, with the MIME types browsers require.

Cross-origin isolation (COOP/COEP) is optional: it gives SharedArrayBuffer and precise timers, which
the page does not need (its runtimes run one thread, its benchmark times long enough groups of runs),
and it costs every fresh visit a browser process switch: 20-40 ms before the first prediction on
these machines. Most static hosts do not send it either.
"""

from __future__ import annotations

import contextlib
import datetime
import email.utils
import errno
import mimetypes
import os
import threading
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO, Callable, Iterator
from urllib.parse import quote

from edgeshrink.errors import BundleError
from edgeshrink.web.assemble.compress import ENCODINGS, FreshCopies
from edgeshrink.web.check import confine

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
    # a .br or .gz asked for by name is that file, byte for byte, as static hosts send it; with a
    # Content-Encoding, clients would unpack it and one file would answer at two addresses
    ".br": "application/octet-stream",
    ".gz": "application/gzip",
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
PAGE = "index.html"


class BundleHandler(SimpleHTTPRequestHandler):
    """The bundle's regular files and nothing else: no path outside its folder (links included), no folder
    listings, 400 for a malformed path. A file goes out as its .br or .gz to browsers that accept them, when
    that copy decompresses to the file as it is now. Request lines go to the server's `log`, if any."""

    server: BundleServer
    vary = False

    def send_head(self) -> BinaryIO | None:
        self.vary = False
        try:
            names, slash = confine.split(self.path)
        except confine.BadPath as exc:
            self.send_error(HTTPStatus.BAD_REQUEST, f"malformed path: {exc}")
            return None
        folder = confine.inside(self.server.root, names)
        if folder is not None and folder.is_dir():
            names = [*names, PAGE]
            if not slash:  # relative links in the folder's page need the slash
                return self._redirect(names[:-1]) if confine.open_file(self.server.root, names) else self._missing()
        copies = {enc: [*names[:-1], names[-1] + suffix] for enc, suffix in ENCODINGS.items()} if names else {}
        self.vary = any(confine.inside(self.server.root, path) for path in copies.values())
        opened = confine.open_file(self.server.root, names)
        if opened is None:
            return self._missing()
        body, status = opened
        if self._not_modified(status):
            body.close()
            return None
        encoding, body = self._encoded(copies, opened)
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", self.guess_type(names[-1]))
        if encoding:
            self.send_header("Content-Encoding", encoding)
        self.send_header("Content-Length", str(os.fstat(body.fileno()).st_size))
        self.send_header("Last-Modified", self.date_time_string(int(status.st_mtime)))
        self.end_headers()
        return body

    def _encoded(self, copies: dict[str, list[str]], opened: tuple[BinaryIO, os.stat_result]
                 ) -> tuple[str | None, BinaryIO]:
        """The encoding to send and the file to send: the first accepted copy that holds the file's bytes (the
        file itself, unencoded, if none does)."""
        for encoding in accepted(self.headers.get("Accept-Encoding", "")):
            copy = confine.open_file(self.server.root, copies[encoding])
            if copy is not None and self.server.copies.hold(copy, encoding, opened):
                opened[0].close()
                return encoding, copy[0]
            if copy is not None:
                copy[0].close()
        return None, opened[0]

    def _redirect(self, names: list[str]) -> None:
        query = self.path.partition("?")[2]
        location = "".join(f"/{quote(name)}" for name in names) + "/"  # from the names: never '//elsewhere'
        self.send_response(HTTPStatus.MOVED_PERMANENTLY)
        self.send_header("Location", location + (f"?{query}" if query else ""))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _missing(self) -> None:
        self.send_error(HTTPStatus.NOT_FOUND, "not in this bundle")

    def _not_modified(self, status: os.stat_result) -> bool:
        """Answer 304 if the browser's copy is as new as the file (it revalidates every time: no-cache)."""
        since = self.headers.get("If-Modified-Since")
        if since is None or "If-None-Match" in self.headers:
            return False
        try:
            when = email.utils.parsedate_to_datetime(since)
        except (TypeError, ValueError, IndexError, OverflowError):
            return False
        if when.tzinfo is None:
            when = when.replace(tzinfo=datetime.timezone.utc)
        if int(status.st_mtime) > when.timestamp():
            return False
        self.send_response(HTTPStatus.NOT_MODIFIED)
        self.end_headers()
        return True

    def guess_type(self, path: str) -> str:
        """The Content-Type of a file by its name; never the type of a file it is a compressed copy of."""
        suffix = Path(path).suffix.lower()
        if suffix in MIME_TYPES:
            return MIME_TYPES[suffix]
        kind, encoding = mimetypes.guess_type(path)
        return kind if kind and not encoding else "application/octet-stream"

    def end_headers(self) -> None:
        for name, value in {**HEADERS, **(ISOLATION if self.server.isolated else {})}.items():
            self.send_header(name, value)
        if self.vary:  # caches must keep the encoded and identity answers apart
            self.send_header("Vary", "Accept-Encoding")
        super().end_headers()

    def log_message(self, format: str, *args) -> None:
        if self.server.log:
            self.server.log(format % args)


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

    def __init__(self, address: tuple[str, int], root: Path, log: Callable[[str], None] | None = None,
                 isolated: bool = False):
        self.root, self.log, self.isolated = root, log, isolated
        self.copies = FreshCopies()
        super().__init__(address, BundleHandler)

    def finish_request(self, request, client_address) -> None:
        self.RequestHandlerClass(request, client_address, self, directory=str(self.root))

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
    try:
        return BundleServer((host, port), dist.resolve(), log, isolated)
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
