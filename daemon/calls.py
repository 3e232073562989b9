"""A caller's session and the `Call` a handler receives.

Every caller of the dispatcher has a `Session`: each socket connection, the
HTTP side and the daemon itself (plugins calling each other). The session
holds the calls it has in flight, so the dispatcher can count them against
`limits.max_inflight`, cancel one by msgid, and cancel all of them when the
caller leaves.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from catalytic.protocol.wire import NOTIFICATION

PROGRESS_INTERVAL_S = 0.05

Send = Callable[[list[Any]], None]


class Session:
    """One caller: its calls in flight and where its answers go (None: awaited, not sent)."""

    __slots__ = ("_next_key", "blocked", "inflight", "label", "limited", "open", "send")

    def __init__(self, label: str, send: Send | None = None, *, limited: bool = True) -> None:
        self.label = label
        self.send = send
        self.limited = limited
        """False for the daemon's own session: a plugin's call to another is part of a call
        that was already admitted."""
        self.inflight: dict[int, RequestCall] = {}
        """By msgid for requests; notifications and awaited calls get negative keys."""
        self.open = True
        self.blocked = False
        """Set by the connection while the peer does not read its answers."""
        self._next_key = -1

    def new_key(self) -> int:
        """A key for a call without a msgid (never a valid msgid)."""
        key = self._next_key
        self._next_key -= 1
        return key


class RequestCall:
    """The `Call` a handler receives: msgid, progress and cancellation state."""

    __slots__ = ("_last_progress", "cancel_reason", "key", "method", "msgid", "session", "task")

    def __init__(self, session: Session, msgid: int | None, method: str) -> None:
        self.session = session
        self.msgid = msgid
        self.key: int = msgid if msgid is not None else session.new_key()
        """Its key in `session.inflight`: the msgid, else a fresh negative key."""
        self.method = method
        self.task: asyncio.Task[None] | None = None
        self.cancel_reason: str | None = None
        self._last_progress = 0.0

    def progress(self, done: float, total: float | None = None, message: str = "") -> None:
        send = self.session.send
        if send is None or self.msgid is None or not self.session.open:
            return
        now = time.monotonic()
        final = total is not None and done >= total
        if not final and now - self._last_progress < PROGRESS_INTERVAL_S:
            return
        self._last_progress = now
        send([NOTIFICATION, "progress",
              [{"id": self.msgid, "done": done, "total": total, "message": message}]])

    @property
    def cancelled(self) -> bool:
        return self.cancel_reason is not None

    def cancel(self, reason: str) -> bool:
        """Cancel the call's task; False when there is none left to cancel."""
        if self.task is None or self.task.done() or self.cancel_reason is not None:
            return False
        self.cancel_reason = reason
        self.task.cancel()
        return True
