"""The carried wasm's text: every byte back for every rotation, nothing HTML would change, the best rotation."""

from __future__ import annotations

import numpy as np
import pytest

from edgeshrink.web.assemble import wasmtext
from edgeshrink.web.assemble.compress import compress


def test_every_rotation_gives_back_random_bytes_and_every_byte():
    data = np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes() + bytes(range(256))
    for k in range(256):
        text = wasmtext.as_text(data, k)
        assert len(text) == len(data) and wasmtext.from_text(text, k) == data
        # the characters an HTML parser would change (NUL, CR) or end a <script> on ('<') never appear
        assert not {"\0", "\r", "<"} & set(text) and max(map(ord, text)) <= 0x1FF


def test_a_rotation_is_a_byte():
    with pytest.raises(ValueError, match="a rotation is 0 to 255, not 256"):
        wasmtext.as_text(b"\0asm", 256)


def test_the_rotation_chosen_packs_best_and_is_kept(tmp_path):
    # bytes clustered just below 0x80: most rotations push them into two-byte UTF-8 characters
    data = np.random.default_rng(1).integers(0x60, 0x80, 1000, dtype=np.uint8).tobytes()
    k = wasmtext.rotation(data)
    sizes = {r: [len(c) for c in compress(wasmtext.as_text(data, r).encode())] for r in range(256)}  # gzip, brotli
    assert sizes[k][0] <= sizes[0][0]  # no larger after gzip
    assert sizes[k][1] == min(b for g, b in sizes.values() if g <= sizes[0][0]) < sizes[0x40][1]
    # kept by the bytes' digest: the same answer without measuring, a memo that is not a rotation measured again
    assert wasmtext.rotation(data, tmp_path) == k
    (memo,) = tmp_path.glob("*.rotation")
    memo.write_text("7")
    assert wasmtext.rotation(data, tmp_path) == 7
    memo.write_text("256")
    assert wasmtext.rotation(data, tmp_path) == k and memo.read_text() == str(k)
