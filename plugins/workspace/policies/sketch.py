"""Frequency sketch for TinyLFU: a count-min sketch (4 rows in one flat list),
optionally behind a doorkeeper, halved every `sample` counted hits so old
popularity fades.

The doorkeeper absorbs each key's first sighting in a period, so one-hit
wonders never reach the counters. It is a plain set bounded by the sample
period (exact, where a Bloom filter would be approximate).
"""

from __future__ import annotations

from collections.abc import Hashable

_M = (1 << 64) - 1
_S0, _S1 = 0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F


MAX_WIDTH = 1 << 20
"""Counters per row at most (4 rows of Python ints: 32 MiB). The memory tier's capacity is
in bytes, so sizing by capacity alone would ask for billions of counters; a million per
row keeps estimates sharp for about 250k resident objects."""


class FrequencySketch:
    def __init__(self, capacity: int, sample: int, doorkeeper: bool = False) -> None:
        width = 1
        while width < min(MAX_WIDTH, max(64, 4 * capacity)):
            width <<= 1
        self.width = width
        self.mask = width - 1
        self.table = [0] * (4 * width)
        self.use_door = doorkeeper
        self.door: set[Hashable] = set()
        self.sample = max(1, sample)
        self.hits = 0
        self.memo: dict[Hashable, tuple[int, int, int, int]] = {}
        """Key → its four counter slots (hashing dominates the cost otherwise)."""
        self.memo_max = 8 * width

    def _slots(self, key: Hashable) -> tuple[int, int, int, int]:
        h = hash(key)
        h1, h2 = (h * _S0) & _M, (h * _S1) & _M
        m, w = self.mask, self.width
        s = ((h1 >> 8) & m, ((h2 >> 8) & m) + w, ((h1 >> 36) & m) + 2 * w,
             ((h2 >> 36) & m) + 3 * w)
        memo = self.memo
        if len(memo) > self.memo_max:
            memo.clear()
        memo[key] = s
        return s

    def add(self, key: Hashable, hit: bool = False) -> None:
        """Count one event for `key`; `hit` events drive the ageing period."""
        if self.use_door and key not in self.door:
            self.door.add(key)
        else:
            a, b, c, d = self.memo.get(key) or self._slots(key)
            t = self.table
            t[a] += 1
            t[b] += 1
            t[c] += 1
            t[d] += 1
        if hit:
            self.hits += 1
            if self.hits >= self.sample:
                self.hits = 0
                self._age()

    def estimate(self, key: Hashable) -> int:
        """Estimated recent count of `key`."""
        a, b, c, d = self.memo.get(key) or self._slots(key)
        t = self.table
        low = min(t[a], t[b], t[c], t[d])
        return low + 1 if self.use_door and key in self.door else low

    def _age(self) -> None:
        self.door.clear()
        self.table[:] = [c >> 1 for c in self.table]  # in place: callers may hold the list
