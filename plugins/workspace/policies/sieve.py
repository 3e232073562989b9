"""SIEVE (Zhang et al., NSDI '24): one FIFO queue plus a hand that sweeps from
the oldest key toward the newest, clearing visited bits and evicting the first
unvisited key; survivors keep their place (unlike CLOCK's reinsertion).

The queue is a Python list in insertion order with holes where keys left; the
hand is an index into it, and the list is compacted when holes dominate. That
keeps every step a list or dict operation, the fastest shape in CPython.
"""

from __future__ import annotations

from collections.abc import Iterable

from .base import Key, Policy

_HOLE = object()


class Sieve(Policy):
    name = "sieve"

    def __init__(self, capacity: int) -> None:
        super().__init__(capacity)
        self._q: list[object] = []
        self._pos: dict[Key, int] = {}
        self._size: dict[Key, int] = {}
        self._visited: set[Key] = set()
        self._hand = 0

    def _compact(self) -> None:
        q, pos = self._q, self._pos
        hand = sum(1 for k in q[: self._hand] if k is not _HOLE)
        self._q = [k for k in q if k is not _HOLE]
        for i, k in enumerate(self._q):
            pos[k] = i
        self._hand = hand

    def _evict_one(self) -> None:
        q, visited = self._q, self._visited
        h = self._hand
        n = len(q)
        while True:
            if h >= n:
                h = 0
            k = q[h]
            if k is _HOLE:
                h += 1
            elif k in visited:
                visited.discard(k)
                h += 1
            else:
                break
        q[h] = _HOLE
        j = h + 1
        while j < n and q[j] is _HOLE:
            j += 1
        self._hand = j if j < n else 0  # past the newest key: restart from the oldest
        del self._pos[k]
        self.used -= self._size.pop(k)
        self._evicted(k)

    def _insert(self, key: Key, size: int) -> None:
        q = self._q
        if len(q) > 2 * len(self._pos) + 64:
            self._compact()
            q = self._q
        self._pos[key] = len(q)
        q.append(key)
        self._size[key] = size
        self.used += size

    def access(self, key: Key, size: int = 1) -> bool:
        if key in self._pos:
            self._visited.add(key)
            return True
        if size > self.capacity:
            return False
        while self.used + size > self.capacity:
            self._evict_one()
        self._insert(key, size)
        return False

    def replay(self, keys: Iterable[Key]) -> int:
        pos, size = self._pos, self._size
        visit = self._visited.add
        cap, hits = self.capacity, 0
        evict = self._evict_one
        for k in keys:
            if k in pos:
                visit(k)
                hits += 1
                continue
            while self.used >= cap:
                evict()
            q = self._q
            if len(q) > 2 * len(pos) + 64:
                self._compact()
                q = self._q
            pos[k] = len(q)
            q.append(k)
            size[k] = 1
            self.used += 1
        return hits

    def remove(self, key: Key) -> bool:
        i = self._pos.pop(key, None)
        if i is None:
            return False
        self._q[i] = _HOLE
        self._visited.discard(key)
        self.used -= self._size.pop(key)
        return True

    def __contains__(self, key: object) -> bool:
        return key in self._pos

    def __len__(self) -> int:
        return len(self._pos)

    def resident(self) -> list[Key]:
        return [k for k in self._q if k is not _HOLE]

    def sizes(self) -> dict[Key, int]:
        return dict(self._size)
