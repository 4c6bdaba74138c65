"""The progress protocol: long-running library code reports steps, only the CLI draws them.

`track(description, total)` is a context manager yielding `advance(n)`; the library calls it and
never prints. `no_progress` is the silent default.
"""

from __future__ import annotations

import contextlib
from typing import Callable, ContextManager, Iterator

Advance = Callable[[int], None]
Track = Callable[[str, int], ContextManager[Advance]]


@contextlib.contextmanager
def no_progress(description: str, total: int) -> Iterator[Advance]:
    yield lambda n: None
