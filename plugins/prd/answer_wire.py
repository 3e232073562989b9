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


def packed_answer(answer: dict[str, Any]) -> Packed:
    """`answer` encoded exactly as a single `msgpack.packb` would encode it."""
    packer = msgpack.Packer(use_bin_type=True, unicode_errors="surrogateescape")
    parts: list[bytes] = []
    _pack(answer, 0, packer, parts)
    chunks = []
    for k in range(0, len(parts), CHUNK_PARTS):  # a few hundred kB each: joined here in
        chunks.append(b"".join(parts[k:k + CHUNK_PARTS]))  # short steps, never copied
        point()  # as a whole (45 MB at 100,000 tasks)
    return Packed(chunks)


def _pack(value: Any, depth: int, packer: msgpack.Packer, parts: list[bytes]) -> None:
    if depth < SPLIT_DEPTH and type(value) is dict:
        parts.append(packer.pack_map_header(len(value)))
        for k, v in value.items():
            parts.append(packer.pack(k))
            _pack(v, depth + 1, packer, parts)
            point()
    elif depth < SPLIT_DEPTH and type(value) is list:
        parts.append(packer.pack_array_header(len(value)))
        for item in value:
            parts.append(packer.pack(item))
            point()
    else:
        parts.append(packer.pack(value))
