"""Find where one msgpack message ends, and its long bin/str values, without decoding it.

`msgpack` copies every byte of a large frame while it holds the GIL: into its
buffer as the frame arrives (again each time the buffer grows), then into the
value it builds. A thread doing that stops the event loop for as long, and longer
when the machine is loaded and the thread is descheduled holding the GIL.
`FrameScan` reads only the headers as chunks arrive (a few per frame when one
value is large), keeps the chunks as they are, and once the message is complete
builds it from a small skeleton (the long values replaced by placeholders) and
the long values joined with `bytes.join`, which copies without the GIL.
"""

from __future__ import annotations

import bisect
import os
import struct
import time
from typing import Any

import msgpack

LONG_VALUE_BYTES = 64 << 10
"""A bin or str at least this long is copied without the GIL, not by msgpack."""
STEP_BYTES = 64 << 10
"""The skeleton is decoded this many bytes at a time, the GIL offered between steps."""
STEP_HEADERS = 4096
"""Headers walked between two offers of the GIL (a frame of many small values)."""
_PLACEHOLDER = 127
"""The ext type code of a long value's stand-in in the skeleton (with a per-frame nonce)."""

# first byte → (header bytes, payload length field size, kind) for the variable-length types
_SIZED = {0xC4: (2, 1, "bin"), 0xC5: (3, 2, "bin"), 0xC6: (5, 4, "bin"),
          0xD9: (2, 1, "str"), 0xDA: (3, 2, "str"), 0xDB: (5, 4, "str"),
          0xC7: (3, 1, "ext"), 0xC8: (4, 2, "ext"), 0xC9: (6, 4, "ext")}
_FIXED = {0xC0: 1, 0xC2: 1, 0xC3: 1, 0xCA: 5, 0xCB: 9, 0xCC: 2, 0xCD: 3, 0xCE: 5, 0xCF: 9,
          0xD0: 2, 0xD1: 3, 0xD2: 5, 0xD3: 9, 0xD4: 3, 0xD5: 4, 0xD6: 6, 0xD7: 10, 0xD8: 18}
_CONTAINER = {0xDC: (3, 2, 1), 0xDD: (5, 4, 1), 0xDE: (3, 2, 2), 0xDF: (5, 4, 2)}
_UINT = {1: struct.Struct(">B"), 2: struct.Struct(">H"), 4: struct.Struct(">I")}


class FrameScan:
    """One message's chunks, from its first byte; `add` until it returns True."""

    def __init__(self, max_value_bytes: int) -> None:
        self.chunks: list[bytes] = []
        self.starts: list[int] = []
        """Offset of each chunk in the message's bytes."""
        self.size = 0
        self.pos = 0
        """Offset of the next header to read."""
        self.stack = [1]
        """Items still to read at each open level (the message itself at the bottom)."""
        self.long: list[tuple[int, int, int, str]] = []
        """(header offset, payload offset, payload end, "bin" or "str") of each long value."""
        self.end = -1
        self.max_value_bytes = max_value_bytes
        self.walked = 0

    def add(self, chunk: bytes) -> bool:
        """Keep one more chunk; True once the message is complete (`end` is then set)."""
        self.starts.append(self.size)
        self.chunks.append(chunk)
        self.size += len(chunk)
        return self._walk()

    def _walk(self) -> bool:
        stack = self.stack
        while stack:
            pos = self.pos
            if pos >= self.size:
                return False
            first = self._read(pos, 1)[0]
            children = 0
            payload = 0
            kind = ""
            if first <= 0x7F or first >= 0xE0:
                head = 1
            elif first <= 0x8F:
                head, children = 1, 2 * (first & 0x0F)
            elif first <= 0x9F:
                head, children = 1, first & 0x0F
            elif first <= 0xBF:
                head, payload, kind = 1, first & 0x1F, "str"
            elif first in _FIXED:
                head = _FIXED[first]
            elif first in _SIZED:
                head, width, kind = _SIZED[first]
                if pos + head > self.size:
                    return False
                payload = _UINT[width].unpack(self._read(pos + 1, width))[0]
                if payload > self.max_value_bytes:
                    raise ValueError(f"{payload} exceeds max_{kind}_len({self.max_value_bytes})")
            elif first in _CONTAINER:
                head, width, per = _CONTAINER[first]
                if pos + head > self.size:
                    return False
                children = per * _UINT[width].unpack(self._read(pos + 1, width))[0]
            else:
                raise ValueError(f"Unpack failed: byte 0x{first:02x} starts no msgpack value")
            if pos + head > self.size:
                return False
            if kind in ("bin", "str") and payload >= LONG_VALUE_BYTES:
                self.long.append((pos, pos + head, pos + head + payload, kind))
            self.pos = pos + head + payload
            self.walked += 1
            if not self.walked % STEP_HEADERS:
                time.sleep(0)  # let a waiting event loop take the GIL now
            stack[-1] -= 1
            if children:
                stack.append(children)
            while stack and stack[-1] == 0:
                stack.pop()
        if self.pos > self.size:
            return False  # the last value's payload is still arriving
        self.end = self.pos
        return True

    def _read(self, start: int, n: int) -> bytes:
        """`n` bytes from offset `start` (n small: headers)."""
        i = bisect.bisect_right(self.starts, start) - 1
        at = start - self.starts[i]
        out = self.chunks[i][at:at + n]
        while len(out) < n:
            i += 1
            out += self.chunks[i][:n - len(out)]
        return out

    def _pieces(self, start: int, end: int) -> list[bytes]:
        """The bytes from `start` to `end` as whole chunks where possible (no copies)."""
        i = bisect.bisect_right(self.starts, start) - 1
        out = []
        while start < end:
            chunk, at = self.chunks[i], start - self.starts[i]
            take = min(len(chunk) - at, end - start)
            out.append(chunk if at == 0 and take == len(chunk) else chunk[at:at + take])
            start += take
            i += 1
        return out

    def decode(self, options: dict[str, Any]) -> Any:
        """The complete message, as `msgpack.Unpacker(**options)` would give it."""
        nonce = os.urandom(8)
        values: list[Any] = []
        skeleton: list[bytes] = []
        at = 0
        for head_at, start, end, kind in self.long:
            skeleton += self._pieces(at, head_at)
            skeleton.append(b"\xd8" + bytes([_PLACEHOLDER]) + nonce
                            + len(values).to_bytes(8, "big"))
            data = b"".join(self._pieces(start, end))  # copies without the GIL
            values.append(data if kind == "bin" else data.decode("utf-8"))
            at = end
        skeleton += self._pieces(at, self.end)

        def ext_hook(code: int, data: bytes) -> Any:
            if code == _PLACEHOLDER and data[:8] == nonce:
                return values[int.from_bytes(data[8:], "big")]
            return msgpack.ExtType(code, data)

        # fed in steps: msgpack builds the values of each step as it arrives, so no single
        # call holds the GIL for a whole frame of small values
        unpacker = msgpack.Unpacker(**options, ext_hook=ext_hook)
        whole = memoryview(b"".join(skeleton))
        for at in range(0, len(whole), STEP_BYTES):
            unpacker.feed(whole[at:at + STEP_BYTES])
            try:
                return unpacker.unpack()
            except msgpack.OutOfData:
                time.sleep(0)
        return unpacker.unpack()  # raises what an incomplete frame raises
