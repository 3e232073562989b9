"""ARC (Megiddo & Modha, FAST '03): recency list T1 and frequency list T2, each
with a ghost list (B1, B2) whose hits move the target size `p` of T1.

Follows libCacheSim's ARC step for step (sizes counted in units, REPLACE run on
every ghost hit, case-IV trimming of B1/B2), so hit ratios agree with it.
OrderedDicts are oldest-first: `popitem(last=False)` is the LRU end.
"""

from __future__ import annotations

from collections import OrderedDict

from .base import Key, Policy


class ARC(Policy):
    name = "arc"

    def __init__(self, capacity: int) -> None:
        super().__init__(capacity)
        self.t1: OrderedDict[Key, int] = OrderedDict()
        self.t2: OrderedDict[Key, int] = OrderedDict()
        self.b1: OrderedDict[Key, int] = OrderedDict()
        self.b2: OrderedDict[Key, int] = OrderedDict()
        self.t1_size = self.t2_size = self.b1_size = self.b2_size = 0
        self.p = 0

    def _replace(self, in_b2: bool) -> None:
        """Move the LRU of T1 or T2 to its ghost list (the paper's REPLACE)."""
        if not self.t1 and not self.t2:
            return
        if (self.t1_size > 0 and (self.t1_size > self.p or (self.t1_size == self.p and in_b2))) \
                or not self.t2:
            key, s = self.t1.popitem(last=False)
            self.t1_size -= s
            self.b1[key] = s
            self.b1_size += s
        else:
            key, s = self.t2.popitem(last=False)
            self.t2_size -= s
            self.b2[key] = s
            self.b2_size += s
        self.used -= s
        self._evicted(key)

    def _evict(self, size: int) -> None:
        cap = self.capacity
        if self.t1_size + self.b1_size + size > cap:
            if self.t1_size < cap and self.b1:
                _, s = self.b1.popitem(last=False)
                self.b1_size -= s
                self._replace(False)
            else:
                key, s = self.t1.popitem(last=False)
                self.t1_size -= s
                self.used -= s
                self._evicted(key)
        else:
            if self.t1_size + self.b1_size + self.t2_size + self.b2_size >= 2 * cap and self.b2:
                _, s = self.b2.popitem(last=False)
                self.b2_size -= s
            self._replace(False)

    def access(self, key: Key, size: int = 1) -> bool:
        t1, t2 = self.t1, self.t2
        if key in t2:
            t2.move_to_end(key)
            return True
        s = t1.pop(key, None)
        if s is not None:
            self.t1_size -= s
            t2[key] = s
            self.t2_size += s
            return True
        ghost = False
        s = self.b1.get(key)
        if s is not None:
            ghost = True
            self.p = min(self.p + max(self.b2_size // self.b1_size, 1), self.capacity)
            self._replace(False)
            del self.b1[key]
            self.b1_size -= s
        else:
            s = self.b2.get(key)
            if s is not None:
                ghost = True
                self.p = max(self.p - max(self.b1_size // self.b2_size, 1), 0)
                self._replace(True)
                del self.b2[key]
                self.b2_size -= s
        if size > self.capacity:
            return False
        while self.used + size > self.capacity:
            self._evict(size)
        if ghost:
            t2[key] = size
            self.t2_size += size
        else:
            t1[key] = size
            self.t1_size += size
        self.used += size
        return False

    def remove(self, key: Key) -> bool:
        for lst, attr in ((self.t1, "t1_size"), (self.t2, "t2_size")):
            s = lst.pop(key, None)
            if s is not None:
                setattr(self, attr, getattr(self, attr) - s)
                self.used -= s
                return True
        return False

    def __contains__(self, key: object) -> bool:
        return key in self.t1 or key in self.t2

    def __len__(self) -> int:
        return len(self.t1) + len(self.t2)

    def resident(self) -> list[Key]:
        return [*self.t1, *self.t2]

    def sizes(self) -> dict[Key, int]:
        return {**self.t1, **self.t2}
