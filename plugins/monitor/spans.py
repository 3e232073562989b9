"""Client-described timing spans: open, close, record durations by name.

Kept apart from RPC so the rules (double end, unknown id, expiry of spans never
ended) are testable alone. Durations per name are kept in a bounded window.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from dataclasses import dataclass, field


class SpanError(Exception):
    """A span was ended twice, never started, or expired; `reason` says which."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class OpenSpan:
    name: str
    started: float
    attrs: dict[str, object] = field(default_factory=dict)


class SpanBook:
    """Open spans by id, recent durations by name, and what happened to the rest."""

    def __init__(self, window: int = 1024, max_open: int = 10000,
                 timeout_s: float = 3600.0, max_names: int = 256) -> None:
        self.window = window
        self.max_open = max_open
        self.timeout_s = timeout_s
        self.max_names = max_names
        self.open: dict[str, OpenSpan] = {}
        self.durations: dict[str, deque[float]] = {}
        self.counts: dict[str, int] = {}
        self._ended: deque[str] = deque(maxlen=4096)
        self._ended_set: set[str] = set()
        self._expired: set[str] = set()
        self.expired_total = 0
        self._ids = itertools.count(1)

    def start(self, name: str, now: float | None = None) -> str:
        self.expire(now)
        if len(self.open) >= self.max_open:
            raise SpanError("too_many", f"{len(self.open)} spans are open (the limit); end "
                            "some first")
        if name not in self.durations and len(self.durations) >= self.max_names:
            raise SpanError("too_many", f"at most {self.max_names} span names are kept")
        span_id = f"s{next(self._ids)}"
        self.open[span_id] = OpenSpan(name, time.monotonic() if now is None else now)
        return span_id

    def end(self, span_id: str, now: float | None = None) -> tuple[str, float]:
        now = time.monotonic() if now is None else now
        span = self.open.pop(span_id, None)
        if span is None:
            if span_id in self._ended_set:
                raise SpanError("ended", f"span {span_id!r} was already ended")
            if span_id in self._expired:
                raise SpanError("expired", f"span {span_id!r} expired: it stayed open longer "
                                f"than monitor.span_timeout_s ({self.timeout_s:g} s)")
            raise SpanError("unknown", f"no span {span_id!r}; monitor.span.start returns ids")
        if len(self._ended) == self._ended.maxlen:
            self._ended_set.discard(self._ended[0])
        self._ended.append(span_id)
        self._ended_set.add(span_id)
        seconds = max(0.0, now - span.started)
        self.record(span.name, seconds)
        return span.name, seconds

    def record(self, name: str, seconds: float) -> None:
        if name not in self.durations:
            if len(self.durations) >= self.max_names:
                raise SpanError("too_many", f"at most {self.max_names} span names are kept")
            self.durations[name] = deque(maxlen=self.window)
        self.durations[name].append(seconds)
        self.counts[name] = self.counts.get(name, 0) + 1

    def expire(self, now: float | None = None) -> int:
        """Drop spans open longer than the timeout (they were never ended)."""
        now = time.monotonic() if now is None else now
        stale = [i for i, s in self.open.items() if now - s.started > self.timeout_s]
        for span_id in stale:
            del self.open[span_id]
            self._expired.add(span_id)
        if len(self._expired) > 4096:
            self._expired = set(sorted(self._expired)[-2048:])
        self.expired_total += len(stale)
        return len(stale)

    def series(self) -> dict[str, list[float]]:
        """Durations in milliseconds by `span.<name>.ms` (for reports and baselines)."""
        return {f"span.{n}.ms": [d * 1000.0 for d in ds] for n, ds in self.durations.items()}

    def stats(self) -> dict[str, object]:
        return {"open": len(self.open), "expired": self.expired_total,
                "ended": dict(self.counts)}
