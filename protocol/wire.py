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
