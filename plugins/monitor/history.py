"""A bounded ring of samples `(unix time, {metric: value})` and column views of it.

The ring is the in-memory window the dashboard and reports read; `store.py`
keeps the same samples in SQLite so they survive a restart.
"""

from __future__ import annotations

import math
import sys
from collections import deque
from collections.abc import Iterable
from typing import Any

Sample = tuple[float, dict[str, float]]


def value_lists(samples: Iterable[Sample]) -> dict[str, list[float]]:
    """metric → its values, in sample order (a pure function: safe on a copy in a thread)."""
    out: dict[str, list[float]] = {}
    for _ts, values in samples:
        for name, v in values.items():
            out.setdefault(name, []).append(v)
    return out


class Ring:
    def __init__(self, capacity: int) -> None:
        self.samples: deque[Sample] = deque(maxlen=max(1, capacity))

    @property
    def capacity(self) -> int:
        return self.samples.maxlen or 1

    def __len__(self) -> int:
        return len(self.samples)

    def add(self, ts: float, values: dict[str, float]) -> None:
        self.samples.append((ts, values))

    def extend(self, samples: Iterable[Sample]) -> None:
        for ts, values in samples:
            self.add(ts, values)

    def last(self) -> Sample | None:
        return self.samples[-1] if self.samples else None

    def since(self, ts: float) -> list[Sample]:
        return [s for s in self.samples if s[0] > ts]

    def series(self, since: float = -math.inf) -> dict[str, list[float]]:
        """metric → values (only samples after `since`)."""
        return value_lists(self.since(since))

    def drop_oldest(self, fraction: float) -> int:
        """Forget the oldest share of samples (they stay in SQLite); returns how many."""
        n = int(len(self.samples) * fraction)
        for _ in range(n):
            self.samples.popleft()
        return n

    def memory_bytes(self) -> int:
        """A rough estimate: per sample the dict and its float objects."""
        if not self.samples:
            return 0
        _ts, values = self.samples[-1]
        per = sys.getsizeof(values) + 24 * len(values) + 64
        return per * len(self.samples)


def columns(samples: list[Sample], names: Iterable[str] | None = None,
            prefixes: tuple[str, ...] = ()) -> dict[str, Any]:
    """Column form for charts: {"t": [...], "series": {name: [value or None, ...]}}.

    `names` picks exact metrics; `prefixes` picks every metric starting with one of them;
    with neither, every metric is returned.
    """
    wanted: set[str] = set(names or ())
    pick_all = not wanted and not prefixes
    present: dict[str, None] = {}
    for _ts, values in samples:
        for name in values:
            if pick_all or name in wanted or name.startswith(prefixes):
                present.setdefault(name, None)
    t = [ts for ts, _ in samples]
    series = {name: [_finite(values.get(name)) for _ts, values in samples] for name in present}
    return {"t": t, "series": series}


def _finite(v: float | None) -> float | None:
    if v is None or not math.isfinite(v):
        return None
    return v
