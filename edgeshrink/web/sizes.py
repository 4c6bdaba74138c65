"""A cache of transfer sizes by content hash, so large runtime files are compressed once."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from edgeshrink.atomic import write_text
from edgeshrink.size import Size, measure


class SizeCache:
    """Sizes of files already measured, by SHA-256: brotli at quality 11 takes ~45 s on the 14 MB runtime.

    `seeds` are read-only JSON files (the pinned runtime's sizes, committed beside the app);
    new measurements go to `store`, a JSON file in a cache folder.
    """

    SMALL = 1 << 20  # files under 1 MiB are measured every time (fast, and they change between bundles)

    def __init__(self, store: str | os.PathLike, seeds: tuple[str | os.PathLike, ...] = ()):
        self.store = Path(store)
        self.known: dict[str, Size] = {}
        for path in (*seeds, self.store):
            self.known.update(_read(Path(path)))
        self.added = False

    def measure(self, data: bytes) -> Size:
        if len(data) < self.SMALL:
            return measure(data)
        key = hashlib.sha256(data).hexdigest()
        if key not in self.known:
            self.known[key] = measure(data)
            self.added = True
        return self.known[key]

    def save(self) -> None:
        if self.added and self.store.parent.is_dir():
            table = {key: size.to_dict() for key, size in sorted(self.known.items())}
            write_text(self.store, json.dumps(table, indent=1) + "\n")
            self.added = False


def _read(path: Path) -> dict[str, Size]:
    try:
        table = json.loads(path.read_text())
        return {key: Size(**value) for key, value in table.items() if isinstance(value, dict)}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}  # a missing or damaged cache only costs time
