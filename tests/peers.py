"""The peers' MNIST models in ../shared/peers, with skips that say why when the folder is absent.

Only the peers' own tests (foreign models as their exporters wrote them) use this; every other test builds its
models itself. EDGESHRINK_PEERS points elsewhere, e.g. EDGESHRINK_PEERS=/nonexistent runs the suite as a clone
without ../shared beside it would.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

PEERS = Path(os.environ.get("EDGESHRINK_PEERS") or Path(__file__).resolve().parents[1].parent / "shared" / "peers")


def peer_rows() -> list[dict[str, str]]:
    manifest = PEERS / "manifest.tsv"
    if not manifest.is_file():
        return []
    with manifest.open() as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def peer_names(only=None) -> list[str]:
    """Names to parametrize over (every peer, or those of `only`); one placeholder when the folder is absent,
    so the test reports one skip, not one per peer."""
    if not peer_rows():
        return ["peers-absent"]
    return [row["name"] for row in peer_rows()] if only is None else list(only)


def peer_path(name: str) -> Path:
    path = PEERS / f"{name}.onnx"
    if not path.is_file():
        pytest.skip(f"peer model {name} not found: {PEERS} is absent (../shared/peers beside this clone)")
    return path


def peer_row(name: str) -> dict[str, str]:
    """The manifest row of a peer; a skip that says why when the peers folder is absent."""
    peer_path(name)
    return next(row for row in peer_rows() if row["name"] == name)
