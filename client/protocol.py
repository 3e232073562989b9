"""Sans-I/O msgpack-rpc: encode messages, feed bytes, get events.

Both clients (and the daemon's connections) drive this core; it does no I/O.
Messages: request `[0, msgid, method, params]`, response `[1, msgid, error,
result]`, notification `[2, method, params]`; params is `[]` or `[{...}]`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import msgpack

from catalytic.protocol.wire import (
    MAX_MSGID,
    NOTIFICATION,
    PROTOCOL_VERSION,
    REQUEST,
    RESPONSE,
    first_map,
)

__all__ = [
    "MAX_MSGID",
    "NOTIFICATION",
    "PROTOCOL_VERSION",
    "REQUEST",
    "RESPONSE",
    "ClientProtocol",
    "Notification",
    "Response",
    "check_hello",
    "decode_incoming",
    "encode_notification",
    "encode_request",
    "encode_response",
    "first_map",
    "pack",
]

ProgressCallback = Callable[[dict[str, Any]], None]
"""Receives each progress notification of a call."""
NotificationCallback = Callable[[str, dict[str, Any]], None]
"""Receives (method, params) of notifications that belong to no call."""


@dataclass(frozen=True)
class Response:
    msgid: int
    error: Any
    result: Any


@dataclass(frozen=True)
class Notification:
    method: str
    params: Any


def pack(message: list[Any]) -> bytes:
    return msgpack.packb(message, use_bin_type=True)


def params_array(params: dict[str, Any] | None) -> list[dict[str, Any]]:
    return [params] if params else []


def encode_request(msgid: int, method: str, params: dict[str, Any] | None) -> bytes:
    return pack([REQUEST, msgid, method, params_array(params)])


def encode_notification(method: str, params: dict[str, Any] | None) -> bytes:
    return pack([NOTIFICATION, method, params_array(params)])


def encode_response(msgid: int, error: Any, result: Any) -> bytes:
    return pack([RESPONSE, msgid, error, result])


class ClientProtocol:
    """The client's side: allocates msgids and turns received bytes into events."""

    def __init__(self, max_buffer_size: int = 1 << 30) -> None:
        self._ids: Iterator[int] = itertools.cycle(range(1, MAX_MSGID))
        self._unpacker = msgpack.Unpacker(raw=False, max_buffer_size=max_buffer_size,
                                          strict_map_key=False)

    def request(self, method: str, params: dict[str, Any] | None = None) -> tuple[int, bytes]:
        msgid = next(self._ids)
        return msgid, encode_request(msgid, method, params)

    def feed(self, data: bytes) -> list[Response | Notification]:
        """Bytes in, complete messages out (partial ones wait for more bytes)."""
        self._unpacker.feed(data)
        events: list[Response | Notification] = []
        for msg in self._unpacker:
            events.append(decode_incoming(msg))
        return events


def decode_incoming(msg: Any) -> Response | Notification:
    """A message from the daemon as an event; raises ValueError when malformed."""
    if isinstance(msg, list) and len(msg) == 4 and msg[0] == RESPONSE and isinstance(msg[1], int):
        return Response(msg[1], msg[2], msg[3])
    if isinstance(msg, list) and len(msg) == 3 and msg[0] == NOTIFICATION:
        return Notification(str(msg[1]), first_map(msg[2]))
    raise ValueError(f"unexpected message from daemon: {msg!r:.200}")


def check_hello(hello: Any) -> None:
    """Raise ProtocolMismatch, naming both versions, when the daemon is incompatible."""
    from catalytic.client.errors import ProtocolMismatch

    theirs = hello.get("protocol") if isinstance(hello, dict) else None
    if theirs != PROTOCOL_VERSION:
        raise ProtocolMismatch(
            f"the daemon speaks catalytic protocol {theirs!r} (daemon version "
            f"{hello.get('version') if isinstance(hello, dict) else '?'}), this client speaks "
            f"{PROTOCOL_VERSION}: restart the daemon with this version (`catalytic restart`) "
            "or upgrade the client")
