"""LFU: evict the least frequently used key; ties go first-in-first-out.

Matches libCacheSim's LFU: a key's count starts at 1 when admitted and is
forgotten on eviction; within one frequency the key that reached that
frequency earliest is evicted first.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from .base import Key, Policy


class LFU(Policy):
    name = "lfu"

    def __init__(self, capacity: int) -> None:
        super().__init__(capacity)
        self._freq: dict[Key, int] = {}
        self._size: dict[Key, int] = {}
        self._buckets: dict[int, OrderedDict[Key, None]] = {1: OrderedDict()}
        self._min = 1
        self._max = 1

    def _hit(self, key: Key, f: int) -> None:
        buckets = self._buckets
        old = buckets[f]
        del old[key]
        f += 1
        self._freq[key] = f
        b = buckets.get(f)
        if b is None:
            b = buckets[f] = OrderedDict()
            if f > self._max:
                self._max = f
        b[key] = None
        if self._min == f - 1 and not old:
            self._min = f

    def _evict_one(self) -> None:
        buckets = self._buckets
        m = self._min
        b = buckets[m]
        while not b:  # only after remove(); the hit/evict paths keep _min exact
            m += 1
            b = buckets.get(m) or b
        key, _ = b.popitem(last=False)
        if not b:
            for f in range(m + 1, self._max + 1):
                nb = buckets.get(f)
                if nb:
                    m = f
                    break
        self._min = m
        del self._freq[key]
        self.used -= self._size.pop(key)
        self._evicted(key)

    def access(self, key: Key, size: int = 1) -> bool:
        f = self._freq.get(key)
        if f is not None:
            self._hit(key, f)
            return True
        if size > self.capacity:
            return False
        while self.used + size > self.capacity:
            self._evict_one()
        self._min = 1
        self._freq[key] = 1
        self._size[key] = size
        self._buckets[1][key] = None
        self.used += size
        return False

    def replay(self, keys: Iterable[Key]) -> int:
        freq_get = self._freq.get
        hit = self._hit
        access = self.access
        hits = 0
        for k in keys:
            f = freq_get(k)
            if f is not None:
                hit(k, f)
                hits += 1
            else:
                access(k)
        return hits

    def remove(self, key: Key) -> bool:
        f = self._freq.pop(key, None)
        if f is None:
            return False
        del self._buckets[f][key]
        self.used -= self._size.pop(key)
        if f == self._min and not self._buckets[f]:
            self._min = min((g for g, b in self._buckets.items() if b), default=1)
        return True

    def __contains__(self, key: object) -> bool:
        return key in self._freq

    def __len__(self) -> int:
        return len(self._freq)

    def resident(self) -> list[Key]:
        out: list[Key] = []
        for f in sorted(self._buckets):
            out.extend(self._buckets[f])
        return out

    def sizes(self) -> dict[Key, int]:
        return dict(self._size)
