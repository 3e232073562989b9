"""LRU: evict the least recently used key (an OrderedDict, oldest first)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from .base import Key, Policy


class LRU(Policy):
    name = "lru"

    def __init__(self, capacity: int) -> None:
        super().__init__(capacity)
        self._d: OrderedDict[Key, int] = OrderedDict()

    def access(self, key: Key, size: int = 1) -> bool:
        d = self._d
        if key in d:
            d.move_to_end(key)
            return True
        if size > self.capacity:
            return False
        while self.used + size > self.capacity:
            old, s = d.popitem(last=False)
            self.used -= s
            self._evicted(old)
        d[key] = size
        self.used += size
        return False

    def replay(self, keys: Iterable[Key]) -> int:
        d = self._d
        move, pop = d.move_to_end, d.popitem
        cap, used, hits = self.capacity, self.used, 0
        cb = self.on_evict
        for k in keys:
            if k in d:
                move(k)
                hits += 1
                continue
            while used >= cap:
                old, s = pop(False)
                used -= s
                if cb is not None:
                    cb(old)
            d[k] = 1
            used += 1
        self.used = used
        return hits

    def remove(self, key: Key) -> bool:
        s = self._d.pop(key, None)
        if s is None:
            return False
        self.used -= s
        return True

    def __contains__(self, key: object) -> bool:
        return key in self._d

    def __len__(self) -> int:
        return len(self._d)

    def resident(self) -> list[Key]:
        return list(self._d)

    def sizes(self) -> dict[Key, int]:
        return dict(self._d)
