"""The error codes of the wire protocol and one exception class per code.

Shared by the client (which raises them from error maps) and the daemon (whose
handlers raise them to answer with that code), so the mapping exists once.
`catalytic.client` re-exports the exceptions for users.
"""

from __future__ import annotations

from typing import Any, ClassVar

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
CANCELLED = -32000
DEADLINE_EXCEEDED = -32001
OVERLOADED = -32002
FORBIDDEN = -32003
TOO_LARGE = -32004
PLUGIN_ERROR = -33000
"""Plugins define their own codes from -33000 down."""


class RpcError(Exception):
    """An error answered by the daemon (or raised by a handler to answer one)."""

    code: ClassVar[int] = PLUGIN_ERROR

    def __init__(self, message: str, data: Any = None, *, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data
        if code is not None:
            self.code = code  # type: ignore[misc]

    def to_map(self) -> dict[str, Any]:
        """The error map sent on the wire."""
        return {"code": self.code, "message": self.message, "data": self.data}

    def __str__(self) -> str:
        return f"{self.message} (code {self.code})"


class ParseError(RpcError):
    code = PARSE_ERROR


class InvalidRequest(RpcError):
    code = INVALID_REQUEST


class MethodNotFound(RpcError):
    code = METHOD_NOT_FOUND


class InvalidParams(RpcError):
    code = INVALID_PARAMS


class InternalError(RpcError):
    code = INTERNAL_ERROR


class Cancelled(RpcError):
    code = CANCELLED


class DeadlineExceeded(RpcError):
    code = DEADLINE_EXCEEDED


class Overloaded(RpcError):
    code = OVERLOADED


class Forbidden(RpcError):
    code = FORBIDDEN


class TooLarge(RpcError):
    code = TOO_LARGE


BY_CODE: dict[int, type[RpcError]] = {
    cls.code: cls
    for cls in (
        ParseError,
        InvalidRequest,
        MethodNotFound,
        InvalidParams,
        InternalError,
        Cancelled,
        DeadlineExceeded,
        Overloaded,
        Forbidden,
        TooLarge,
    )
}


def from_map(error: Any) -> RpcError:
    """Build the exception for an error map received from the daemon."""
    if not isinstance(error, dict):
        return InternalError(f"malformed error from daemon: {error!r}")
    code = error.get("code")
    message = str(error.get("message", "error"))
    data = error.get("data")
    if not isinstance(code, int):
        return InternalError(message, data)
    cls = BY_CODE.get(code)
    if cls is None:
        return RpcError(message, data, code=code)
    return cls(message, data)
