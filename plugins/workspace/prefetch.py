"""Predictive prefetch: a bounded first-order (optionally second-order) model of
which key follows which, learned online from the access stream.

Pipelines read artifacts in recurring sequences (a task reads x, then y, then
z), so after an access the most likely successors are worth moving from disk to
memory before they are asked for. The model keeps at most `max_keys` contexts
(least recently seen dropped first) and `fanout` successors per context.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from operator import itemgetter

Key = Hashable


class SuccessorModel:
    def __init__(self, max_keys: int = 100_000, fanout: int = 4, min_prob: float = 0.3,
                 min_count: int = 1, second_order: bool = True) -> None:
        self.max_keys = max_keys
        self.fanout = fanout
        self.min_prob = min_prob
        self.min_count = min_count
        self.second_order = second_order
        self._next: OrderedDict[Hashable, dict[Key, int]] = OrderedDict()
        self._prev: Key | None = None
        self._prev2: Key | None = None

    def _count(self, ctx: Hashable, key: Key) -> None:
        table = self._next
        succ = table.get(ctx)
        if succ is None:
            succ = table[ctx] = {}
            if len(table) > self.max_keys:
                table.popitem(last=False)
        else:
            table.move_to_end(ctx)
        succ[key] = succ.get(key, 0) + 1
        if len(succ) > 2 * self.fanout:  # keep the strongest successors only
            for k, _ in sorted(succ.items(), key=lambda kv: kv[1])[: len(succ) - self.fanout]:
                del succ[k]

    def observe(self, key: Key) -> None:
        """Learn from one access (in stream order)."""
        prev = self._prev
        if prev is not None:
            self._count(prev, key)
            if self.second_order and self._prev2 is not None:
                self._count((self._prev2, prev), key)
        self._prev2, self._prev = prev, key

    def predict(self, key: Key, limit: int) -> list[Key]:
        """Up to `limit` likely successors of `key` (the last key observed), best first."""
        succ = None
        if self.second_order and self._prev2 is not None and self._prev == key:
            succ = self._next.get((self._prev2, key))
        if not succ:
            succ = self._next.get(key)
        if not succ:
            return []
        total, least, share = sum(succ.values()), self.min_count, self.min_prob
        # filter first (it runs on every access; few successors pass), then rank: the
        # passing ones are the most counted, and the sort is stable as over all of them
        likely = [kv for kv in succ.items() if kv[1] >= least and kv[1] / total >= share]
        if len(likely) > 1:
            likely.sort(key=itemgetter(1), reverse=True)
        return [k for k, _ in likely[:limit]]

    def __len__(self) -> int:
        return len(self._next)


@dataclass
class PrefetchStats:
    """Precision: prefetched entries later used; coverage: misses prefetch removed."""

    issued: int = 0
    used: int = 0
    demand_misses: int = 0
    bytes_prefetched: int = 0
    demand_miss_bytes: int = 0

    @property
    def precision(self) -> float:
        return self.used / self.issued if self.issued else 0.0

    @property
    def coverage(self) -> float:
        would_miss = self.used + self.demand_misses
        return self.used / would_miss if would_miss else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {"issued": self.issued, "used": self.used, "precision": round(self.precision, 4),
                "coverage": round(self.coverage, 4), "bytes_prefetched": self.bytes_prefetched}
