"""Tokens the daemon hands to processes it starts, so that they may call internal verbs.

Why: a plugin's helpers (testrun's pytest workers) call back over the same
socket as any local peer. Their verbs are registered as `internal.<plugin>.<verb>`
(`@rpc(..., internal=True)`), left out of `system.hello`, and the dispatcher
refuses them (-32003) unless the call carries `internal_token`: a live token
this registry issued to that plugin. A plugin issues one per process group it
starts (`PluginContext.issue_token`) and revokes it when they are done.
"""

from __future__ import annotations

import secrets

TOKEN_PARAM = "internal_token"
"""The param an internal call carries its token in (taken out before validation)."""


class InternalTokens:
    """Live tokens, each opening the internal verbs of one plugin."""

    def __init__(self) -> None:
        self._live: dict[str, str] = {}

    def issue(self, plugin: str) -> str:
        """A new token for `plugin`'s internal verbs (hand it to the process you start)."""
        token = secrets.token_urlsafe(24)
        self._live[token] = plugin
        return token

    def revoke(self, token: str) -> None:
        """The process is done: its token opens nothing any more."""
        self._live.pop(token, None)

    def allows(self, token: object, plugin: str) -> bool:
        """True when `token` is live and was issued to `plugin`."""
        return isinstance(token, str) and self._live.get(token) == plugin

    def __len__(self) -> int:
        return len(self._live)
