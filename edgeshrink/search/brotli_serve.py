"""Serve a bundle brotli-compressed (Content-Encoding: br), as a production host with brotli enabled would,
so that emulated-network timings pay for the same bytes the search counts.

The compressed copies live in a cache folder by content hash: brotli at quality 11 takes ~45 s on
onnxruntime-web's wasm, and every bundle ships the same file.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import threading
from pathlib import Path
from typing import Iterator

from edgeshrink.web.serve import BundleHandler, make_server

COMPRESSIBLE = {".wasm", ".mjs", ".js", ".onnx", ".json", ".html", ".css", ".svg", ".bin"}


def cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "edgeshrink" / "brotli"


def compressed(path: Path, cache: Path) -> Path:
    """The brotli (quality 11) copy of `path`, made once per content."""
    import brotli

    data = path.read_bytes()
    target = cache / f"{hashlib.sha256(data).hexdigest()}.br"
    if not target.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(brotli.compress(data, quality=11))
        os.replace(tmp, target)
    return target


class BrotliHandler(BundleHandler):
    """BundleHandler that answers with the brotli copy when the browser accepts it."""

    cache: Path = cache_dir()

    def send_head(self):
        path = Path(self.translate_path(self.path))
        accepts = "br" in self.headers.get("Accept-Encoding", "")
        if not accepts or path.suffix not in COMPRESSIBLE or not path.is_file():
            return super().send_head()
        body = compressed(path, self.cache)
        handle = open(body, "rb")
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "br")
        self.send_header("Content-Length", str(body.stat().st_size))
        self.end_headers()
        return handle


@contextlib.contextmanager
def running_brotli(dist: str | os.PathLike) -> Iterator[str]:
    """Serve `dist` brotli-compressed from a background thread for the block; yields the page's URL."""
    for path in Path(dist).rglob("*"):  # compress ahead, so no timed request waits for brotli
        if path.suffix in COMPRESSIBLE and path.is_file():
            compressed(path, BrotliHandler.cache)
    server = make_server(dist, "127.0.0.1", 0)
    server.RequestHandlerClass = functools.partial(BrotliHandler, directory=str(Path(dist).resolve()))
    thread = threading.Thread(target=server.serve_forever, name="edgeshrink-serve-br", daemon=True)
    thread.start()
    try:
        yield server.url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
