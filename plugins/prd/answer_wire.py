"""Encode a prd answer as msgpack in slices, off the event loop.

Packing a 10,000-task answer in one call takes tens of milliseconds of C code
that never lets another thread run, in a thread or on the loop alike. Packed
task by task (one small call each, the GIL offered between them) it costs about
the same in total, and the loop only hands the chunks to the socket
(`catalytic.protocol.Packed`).
"""

from __future__ import annotations

from typing import Any

import msgpack

from catalytic.plugins.prd.breathe import point
from catalytic.protocol import Packed

CHUNK_PARTS = 1024
"""Encoded pieces (about one task each) per chunk handed to the socket."""
SPLIT_DEPTH = 2
"""Maps and lists this close to the top (the answer, `changes`, their lists) are packed
piece by piece; anything deeper (one task) is packed in one call."""
LONG_LIST = 512
"""Items of a nested list (one of `prd.graph`'s levels, 50,000 IDs long at 100,000 tasks)
beyond which it is packed in slices rather than in one call."""
RELEASE_SLICE = 512
"""Task maps freed between two breathing points by `release`."""


def packed_answer(answer: dict[str, Any]) -> Packed:
    """`answer` encoded exactly as a single `msgpack.packb` would encode it."""
    packer = msgpack.Packer(use_bin_type=True, unicode_errors="surrogateescape")
    out = _Chunks()
    _pack(answer, 0, packer, out)
    out.cut()
    return Packed(out.chunks)


def release(answer: dict[str, Any], key: str) -> None:
    """Empty `answer[key]`, a list only the answer holds, a slice at a time.

    Freeing 100,000 task maps is one long cascade of deallocations that never
    offers the GIL (tens of milliseconds); the thread that built the answer frees
    it this way before it returns, rather than leaving it to the loop or to one
    `del` at the end."""
    items = answer.get(key)
    if type(items) is not list:
        return
    while items:
        del items[-RELEASE_SLICE:]
        point()


class _Chunks:
    """Encoded pieces, joined into a chunk every `CHUNK_PARTS` (a few hundred kB, joined
    in short steps, the 45 MB of a 100,000-task answer never copied as a whole; the
    pieces are freed a chunk at a time, not all at the end)."""

    __slots__ = ("chunks", "parts")

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.parts: list[bytes] = []

    def append(self, part: bytes) -> None:
        self.parts.append(part)
        if len(self.parts) >= CHUNK_PARTS:
            self.cut()

    def cut(self) -> None:
        if self.parts:
            self.chunks.append(b"".join(self.parts))
            self.parts = []
        point()


def _pack(value: Any, depth: int, packer: msgpack.Packer, parts: _Chunks) -> None:
    if depth < SPLIT_DEPTH and type(value) is dict:
        parts.append(packer.pack_map_header(len(value)))
        for k, v in value.items():
            parts.append(packer.pack(k))
            _pack(v, depth + 1, packer, parts)
            point()
    elif depth < SPLIT_DEPTH and type(value) is list:
        parts.append(packer.pack_array_header(len(value)))
        for item in value:
            if type(item) is list and len(item) > LONG_LIST:  # a level of `prd.graph`
                _pack_long(item, packer, parts)
            else:
                parts.append(packer.pack(item))
            point()
    else:
        parts.append(packer.pack(value))


def _pack_long(items: list[Any], packer: msgpack.Packer, parts: _Chunks) -> None:
    """A long list of small items (task IDs) packed `LONG_LIST` items per call: each
    slice is packed as a list and its own array header cut off."""
    parts.append(packer.pack_array_header(len(items)))
    for start in range(0, len(items), LONG_LIST):
        some = items[start:start + LONG_LIST]
        parts.append(packer.pack(some)[_array_header_size(len(some)):])
        point()


def _array_header_size(n: int) -> int:
    """Bytes of msgpack's array header for n items (fixarray, array 16, array 32)."""
    return 1 if n < 16 else 3 if n < 1 << 16 else 5
