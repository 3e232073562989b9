"""The client's exceptions: the protocol's error classes plus what only a client meets."""

from __future__ import annotations

from catalytic.protocol.errors import (
    BY_CODE,
    CANCELLED,
    DEADLINE_EXCEEDED,
    FORBIDDEN,
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    OVERLOADED,
    PARSE_ERROR,
    PLUGIN_ERROR,
    TOO_LARGE,
    Cancelled,
    DeadlineExceeded,
    Forbidden,
    InternalError,
    InvalidParams,
    InvalidRequest,
    MethodNotFound,
    Overloaded,
    ParseError,
    RpcError,
    TooLarge,
    from_map,
)

__all__ = [
    "BY_CODE",
    "CANCELLED",
    "DEADLINE_EXCEEDED",
    "FORBIDDEN",
    "INTERNAL_ERROR",
    "INVALID_PARAMS",
    "INVALID_REQUEST",
    "METHOD_NOT_FOUND",
    "OVERLOADED",
    "PARSE_ERROR",
    "PLUGIN_ERROR",
    "TOO_LARGE",
    "Cancelled",
    "DaemonNotRunning",
    "DeadlineExceeded",
    "Forbidden",
    "InternalError",
    "InvalidParams",
    "InvalidRequest",
    "MethodNotFound",
    "Overloaded",
    "ParseError",
    "ProtocolMismatch",
    "RpcError",
    "TooLarge",
    "from_map",
]


class ProtocolMismatch(Exception):
    """The daemon speaks a protocol version this client does not."""


class DaemonNotRunning(Exception):
    """No daemon answers on the socket (and auto-start was off or failed)."""
