"""Admission by memory (`PluginContext.admit`): refuse a call before it allocates.

A verb whose cost grows with its parameters estimates the bytes it will hold and
asks first: more than the whole budget is -32004 (it can never fit), more than the
budget left over the daemon's current RSS is -32002 (try again later).
"""

from __future__ import annotations

from typing import Protocol

from catalytic.protocol.errors import Overloaded, TooLarge

LIMIT = "daemon.memory_budget"


class MemoryGauge(Protocol):
    """What admission reads: the budget, and the daemon's RSS sampled recently."""

    @property
    def budget(self) -> int: ...

    def current_rss(self) -> int: ...


def admit(gauge: MemoryGauge | None, nbytes: int, what: str) -> None:
    """Raise `TooLarge` / `Overloaded` when `nbytes` more would not fit in the budget."""
    if gauge is None:
        return
    budget = gauge.budget
    if budget <= 0:
        return
    nbytes = max(0, int(nbytes))
    data = {"limit": LIMIT, "budget": budget, "needed": nbytes}
    if nbytes > budget:
        raise TooLarge(f"{what} needs about {_mib(nbytes)}, more than the whole "
                       f"{LIMIT} ({_mib(budget)})", data)
    rss = gauge.current_rss()
    if rss + nbytes > budget:
        raise Overloaded(f"{what} needs about {_mib(nbytes)}; with {_mib(rss)} in use that "
                         f"exceeds {LIMIT} ({_mib(budget)}); try again later",
                         dict(data, rss=rss))


def _mib(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB"
