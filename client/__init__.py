"""The thin catalytic client: `Client` (blocking) and `AsyncClient` over msgpack-rpc.

Imports only the standard library, msgpack and `catalytic.config` path helpers.
"""

from catalytic.client.aio import AsyncClient
from catalytic.client.errors import (
    Cancelled,
    DaemonNotRunning,
    DeadlineExceeded,
    Forbidden,
    InternalError,
    InvalidParams,
    InvalidRequest,
    MethodNotFound,
    Overloaded,
    ParseError,
    ProtocolMismatch,
    RpcError,
    TooLarge,
)
from catalytic.client.mirror import TaskMirror
from catalytic.client.protocol import PROTOCOL_VERSION
from catalytic.client.sync import Client

__all__ = [
    "PROTOCOL_VERSION",
    "AsyncClient",
    "Cancelled",
    "Client",
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
    "TaskMirror",
    "TooLarge",
]
