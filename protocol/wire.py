"""Message shapes of catalytic's msgpack-rpc (as Neovim speaks it) and the protocol version.

Request `[0, msgid, method, params]`, response `[1, msgid, error, result]`,
notification `[2, method, params]`; params is `[]` or `[{named arguments}]`.
"""

from __future__ import annotations

from typing import Any

PROTOCOL_VERSION = 1
"""Bumped only for incompatible wire changes; `system.hello` reports it."""

REQUEST, RESPONSE, NOTIFICATION = 0, 1, 2

MAX_MSGID = 2**32 - 1
"""msgids are unsigned 32-bit integers."""


def first_map(params: Any) -> dict[str, Any]:
    """The named-arguments map of a params array (empty when there is none)."""
    if isinstance(params, list) and params and isinstance(params[0], dict):
        return params[0]
    if isinstance(params, dict):
        return params
    return {}


class Packed:
    """A result already encoded as msgpack, so a large answer can be built off the event
    loop (in slices) and only handed to the socket there. The connection writes the
    response's header and then `chunks` as they are (no copy of a large answer on the
    loop); in-process callers get it decoded."""

    __slots__ = ("chunks",)

    def __init__(self, chunks: bytes | list[bytes]) -> None:
        self.chunks: list[bytes] = [chunks] if isinstance(chunks, bytes) else chunks

    @property
    def data(self) -> bytes:
        return b"".join(self.chunks)

    def decode(self) -> Any:
        import msgpack

        return msgpack.unpackb(self.data, raw=False, strict_map_key=False)
