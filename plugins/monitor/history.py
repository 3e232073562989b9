"""The in-memory window of samples, kept as columns: one value list per metric.

A sample is `(unix time, {metric: value})`; the ring stores it as a time column
and one list per metric (None where a sample lacks the metric or its value is
not finite). A report or a history answer is then one slice per metric, cut and
packed in C, instead of hundreds of thousands of per-value steps on the event
loop. `store.py` keeps the same samples in SQLite so they survive a restart.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from typing import Any

Sample = tuple[float, dict[str, float]]
Series = dict[str, list[float | None]]


class Ring:
    def __init__(self, capacity: int) -> None:
        self.capacity = max(1, capacity)
        self.t: list[float] = []
        self.cols: Series = {}
        self._last: Sample | None = None
        self._adds = 0

    def __len__(self) -> int:
        return len(self.t)

    def add(self, ts: float, values: dict[str, float]) -> None:
        n = len(self.t)
        cols = self.cols
        isfinite = math.isfinite
        for name, v in values.items():
            col = cols.get(name)
            if col is None:
                col = cols[name] = [None] * n
            col.append(v if v is not None and isfinite(v) else None)
        self.t.append(ts)
        if len(values) != len(cols):  # metrics this sample lacks
            for col in cols.values():
                if len(col) == n:
                    col.append(None)
        self._last = (ts, values)
        if n + 1 > self.capacity:
            self._drop(n + 1 - self.capacity)
        self._adds += 1
        if self._adds % self.capacity == 0:
            self._forget_empty()

    def extend(self, samples: Iterable[Sample]) -> Ring:
        for ts, values in samples:
            self.add(ts, values)
        return self

    def last(self) -> Sample | None:
        return self._last if self.t else None

    def first_time(self) -> float:
        return self.t[0] if self.t else math.inf

    def _start(self, since: float, limit: int | None) -> int:
        """Index of the first sample after `since`, at most `limit` from the end."""
        i = bisect.bisect_right(self.t, since)
        if limit is not None:
            i = max(i, len(self.t) - limit)
        return i

    def count_since(self, since: float) -> int:
        return len(self.t) - self._start(since, None)

    def series(self, since: float = -math.inf, limit: int | None = None,
               prefixes: tuple[str, ...] = ()) -> Series:
        """metric → its values after `since` (None where missing); metrics with no value
        there are left out; `prefixes` keeps only metrics starting with one of them."""
        i = self._start(since, limit)
        out: Series = {}
        for name, col in self.cols.items():
            if prefixes and not name.startswith(prefixes):
                continue
            values = col[i:]
            if values.count(None) != len(values):
                out[name] = values
        return out

    def columns(self, since: float = -math.inf, limit: int | None = None,
                prefixes: tuple[str, ...] = ()) -> dict[str, Any]:
        """Column form for charts and `monitor.history`: {"t": [...], "series": {...}}."""
        return {"t": self.t[self._start(since, limit):],
                "series": self.series(since, limit, prefixes)}

    def drop_oldest(self, fraction: float) -> int:
        """Forget the oldest share of samples (they stay in SQLite); returns how many."""
        n = int(len(self.t) * fraction)
        self._drop(n)
        self._forget_empty()
        return n

    def _drop(self, n: int) -> None:
        if n <= 0:
            return
        del self.t[:n]
        for col in self.cols.values():
            del col[:n]

    def _forget_empty(self) -> None:
        """Columns of metrics no sample in the window has any more."""
        for name in [n for n, col in self.cols.items() if col.count(None) == len(col)]:
            del self.cols[name]

    def memory_bytes(self) -> int:
        """A rough estimate: a list slot and a float object per value."""
        return len(self.t) * (len(self.cols) + 1) * 32


def columns(samples: Iterable[Sample], prefixes: tuple[str, ...] = ()) -> dict[str, Any]:
    """Column form of samples read back from SQLite (call it off the loop)."""
    ring = Ring(1 << 30).extend(samples)
    return ring.columns(prefixes=prefixes)
