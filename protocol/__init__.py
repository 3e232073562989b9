"""The msgpack-rpc protocol shared by the daemon and the client: message shapes and errors.

Imports only the standard library (and msgpack in `wire`), so the thin client
and the daemon both build on it without pulling in each other's dependencies.
"""

from catalytic.protocol.errors import (
    BY_CODE,
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
from catalytic.protocol.wire import (
    MAX_MSGID,
    NOTIFICATION,
    PROTOCOL_VERSION,
    REQUEST,
    RESPONSE,
    Packed,
    first_map,
)

__all__ = [
    "BY_CODE",
    "MAX_MSGID",
    "NOTIFICATION",
    "PROTOCOL_VERSION",
    "REQUEST",
    "RESPONSE",
    "Cancelled",
    "DeadlineExceeded",
    "Forbidden",
    "InternalError",
    "InvalidParams",
    "InvalidRequest",
    "MethodNotFound",
    "Overloaded",
    "Packed",
    "ParseError",
    "RpcError",
    "TooLarge",
    "first_map",
    "from_map",
]
