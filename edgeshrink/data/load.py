"""Load verified MNIST splits as uint8 arrays."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeshrink.data.idx import FETCH_HINT, MNIST_FILES, parse, verify
from edgeshrink.data.store import check_folder, data_dir
from edgeshrink.errors import DataError


@dataclass(frozen=True)
class Split:
    """One MNIST split: raw pixels (N, 28, 28) uint8, white digit on black, and labels (N,) uint8."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, n: int, start: int = 0) -> "Split":
        return Split(self.images[start:start + n], self.labels[start:start + n])


def load(split: str, folder: str | os.PathLike | None = None) -> Split:
    """Load the 'train' or 'test' split from the cache folder (verified on first load)."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    return _load(split, data_dir(folder).resolve())


@functools.lru_cache(maxsize=4)
def _load(split: str, folder: Path) -> Split:
    check_folder(folder)
    if not folder.is_dir():
        raise DataError(f"no MNIST data in {folder}; {FETCH_HINT}")
    arrays = {}
    for spec in MNIST_FILES:
        if spec.split == split:
            path = folder / spec.name
            if not path.is_file():
                raise DataError(f"MNIST file {path} is missing; {FETCH_HINT}")
            arrays[spec.kind] = parse(spec, verify(spec, path))
    return Split(arrays["images"], arrays["labels"])
