"""The four MNIST IDX files: their known digests, header checks and parsing."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeshrink.errors import DataError


@dataclass(frozen=True)
class IdxFile:
    """One of the four standard MNIST files and what it must contain."""

    name: str
    split: str  # "train" or "test"
    kind: str  # "images" or "labels"
    count: int
    sha256_raw: str
    sha256_gz: str

    @property
    def magic(self) -> int:
        return 2051 if self.kind == "images" else 2049

    @property
    def nbytes(self) -> int:
        return 16 + self.count * 28 * 28 if self.kind == "images" else 8 + self.count


MNIST_FILES = (
    IdxFile("train-images-idx3-ubyte", "train", "images", 60000,
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
    IdxFile("train-labels-idx1-ubyte", "train", "labels", 60000,
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
    IdxFile("t10k-images-idx3-ubyte", "test", "images", 10000,
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
    IdxFile("t10k-labels-idx1-ubyte", "test", "labels", 10000,
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
)

FETCH_HINT = "run 'edgeshrink data fetch' (or 'edgeshrink data fetch --from DIR' with your own IDX files)"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_raw(path: Path) -> bytes:
    """Return the uncompressed bytes of an IDX file, plain or .gz."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read MNIST file {path}: {exc.strerror}; {FETCH_HINT}") from exc
    if data[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise DataError(f"MNIST file {path} is a corrupt or truncated gzip archive; {FETCH_HINT}") from exc
    return data


def check_header(spec: IdxFile, raw: bytes, path: Path) -> None:
    """Check magic number, item count, 28x28 size and length of an uncompressed IDX file."""
    expected = [spec.magic, spec.count] + ([28, 28] if spec.kind == "images" else [])
    header_len = 4 * len(expected)
    if len(raw) < header_len:
        raise DataError(f"MNIST file {path} is truncated ({len(raw)} bytes, header incomplete); {FETCH_HINT}")
    found = [int.from_bytes(raw[i:i + 4], "big") for i in range(0, header_len, 4)]
    if found != expected:
        raise DataError(
            f"MNIST file {path} has IDX header {found}, expected {expected} for {spec.name}; {FETCH_HINT}"
        )
    if len(raw) != spec.nbytes:
        raise DataError(
            f"MNIST file {path} is {len(raw)} bytes, expected {spec.nbytes} (truncated or padded); {FETCH_HINT}"
        )


def verify(spec: IdxFile, path: Path) -> bytes:
    """Return the verified uncompressed content of `path`, or raise DataError naming the file."""
    raw = read_raw(path)
    check_header(spec, raw, path)
    if sha256(raw) != spec.sha256_raw:
        raise DataError(
            f"MNIST file {path} does not match the SHA-256 of the standard {spec.name} (modified or not MNIST); "
            f"{FETCH_HINT}"
        )
    return raw


def parse(spec: IdxFile, raw: bytes) -> np.ndarray:
    """Turn verified IDX bytes into uint8 arrays: images (N, 28, 28), labels (N,)."""
    if spec.kind == "images":
        return np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(spec.count, 28, 28)
    return np.frombuffer(raw, dtype=np.uint8, offset=8)
