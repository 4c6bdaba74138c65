"""Drop the runs of zeros from a wasm module's data segments: memory starts zeroed, so they need not be shipped.

This is what binaryen's memory packing does for a pruned model's weights (most of them zero), done here so that
a module is as small without wasm-opt, which PyPI does not carry. Only active segments at constant offsets are
split; a module with passive segments (referred to by index from code) is returned as it is.
"""

from __future__ import annotations

import re

DATA, DATA_COUNT = 11, 12
MIN_GAP = 12  # a new segment costs ~8 bytes (flag, offset expression, length): shorter runs of zeros stay
_ZEROS = re.compile(rb"\x00{%d,}" % MIN_GAP)


def pack(module: bytes) -> bytes:
    """`module` with every run of MIN_GAP or more zero bytes cut out of its active data segments."""
    sections = list(_sections(module))
    data = [body for sid, body in sections if sid == DATA]
    if not data or any(sid == DATA_COUNT for sid, _ in sections):
        return module
    segments = _segments(data[0])
    if segments is None:
        return module
    packed = [piece for offset, payload in segments for piece in _split(offset, payload)]
    body = _u32(len(packed)) + b"".join(b"\x00\x41" + _s32(offset) + b"\x0b" + _u32(len(p)) + p
                                        for offset, p in packed)
    out = [module[:8]]
    for sid, section in sections:
        section = body if sid == DATA else section
        out.append(bytes([sid]) + _u32(len(section)) + section)
    return b"".join(out)


def _split(offset: int, payload: bytes) -> list[tuple[int, bytes]]:
    pieces, start = [], 0
    for gap in _ZEROS.finditer(payload):
        if gap.start() > start:
            pieces.append((offset + start, payload[start:gap.start()]))
        start = gap.end()
    payload = payload[start:].rstrip(b"\x00")
    return pieces + ([(offset + start, payload)] if payload else [])


def _sections(module: bytes):
    i = 8  # magic and version
    while i < len(module):
        sid = module[i]
        size, i = _read_u32(module, i + 1)
        yield sid, module[i:i + size]
        i += size


def _segments(body: bytes) -> list[tuple[int, bytes]] | None:
    """(offset, bytes) of each segment, or None if one is not active at an i32.const offset in memory 0."""
    count, i = _read_u32(body, 0)
    segments = []
    for _ in range(count):
        if body[i] != 0 or body[i + 1] != 0x41:
            return None
        offset, i = _read_s32(body, i + 2)
        if body[i] != 0x0B:
            return None
        size, i = _read_u32(body, i + 1)
        segments.append((offset, body[i:i + size]))
        i += size
    return segments


def _read_u32(data: bytes, i: int) -> tuple[int, int]:
    return _read_leb(data, i, signed=False)


def _read_s32(data: bytes, i: int) -> tuple[int, int]:
    return _read_leb(data, i, signed=True)


def _read_leb(data: bytes, i: int, signed: bool) -> tuple[int, int]:
    """The LEB128 number at data[i] and the index after it."""
    value = shift = 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return (value - (1 << shift) if signed and byte & 0x40 else value), i


def _u32(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _s32(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        done = (value == 0 and not byte & 0x40) or (value == -1 and byte & 0x40)
        out.append(byte | (0 if done else 0x80))
        if done:
            return bytes(out)
