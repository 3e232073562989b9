"""Byte-capacity cache policies for the replay model: LRU, FIFO, LFU and S3-FIFO.

Small and self-contained on purpose (the workspace plugin owns the real
caches); each offers `get(key) -> bool` (a hit updates recency/frequency) and
`put(key, size)` evicting until the bytes fit. S3-FIFO follows Yang et al.
(SOSP 2023): a small FIFO (10 %), a main FIFO with 2-bit frequencies and a
ghost FIFO of recently evicted keys.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict


class Cache:
    def __init__(self, capacity: int) -> None:
        self.capacity = max(0, capacity)
        self.used = 0
        self.evicted_bytes = 0

    def get(self, key: str) -> bool:
        raise NotImplementedError

    def put(self, key: str, size: int) -> None:
        raise NotImplementedError


class LRU(Cache):
    def __init__(self, capacity: int, fifo: bool = False) -> None:
        super().__init__(capacity)
        self.items: OrderedDict[str, int] = OrderedDict()
        self.fifo = fifo

    def get(self, key: str) -> bool:
        if key in self.items:
            if not self.fifo:
                self.items.move_to_end(key)
            return True
        return False

    def put(self, key: str, size: int) -> None:
        if size > self.capacity:
            return
        old = self.items.pop(key, None)
        if old is not None:
            self.used -= old
        while self.used + size > self.capacity and self.items:
            _, s = self.items.popitem(last=False)
            self.used -= s
            self.evicted_bytes += s
        self.items[key] = size
        self.used += size


class LFU(Cache):
    """Least frequently used, ties broken by age (a heap with lazy deletion)."""

    def __init__(self, capacity: int) -> None:
        super().__init__(capacity)
        self.size: dict[str, int] = {}
        self.freq: dict[str, int] = {}
        self.heap: list[tuple[int, int, str]] = []
        self.tick = 0

    def get(self, key: str) -> bool:
        if key not in self.size:
            return False
        self.tick += 1
        self.freq[key] += 1
        heapq.heappush(self.heap, (self.freq[key], self.tick, key))
        return True

    def put(self, key: str, size: int) -> None:
        if size > self.capacity:
            return
        if key in self.size:
            self.used -= self.size[key]
        else:
            self.freq[key] = 1
        while self.used + size > self.capacity and self.heap:
            f, _, k = heapq.heappop(self.heap)
            if k in self.size and self.freq[k] == f and k != key:
                s = self.size.pop(k)
                del self.freq[k]
                self.used -= s
                self.evicted_bytes += s
        self.tick += 1
        self.size[key] = size
        self.used += size
        heapq.heappush(self.heap, (self.freq[key], self.tick, key))
        if len(self.heap) > 8 * len(self.size) + 64:  # drop stale heap entries
            self.heap = [(self.freq[k], t, k) for f, t, k in self.heap
                         if k in self.size and self.freq[k] == f]
            heapq.heapify(self.heap)


class S3FIFO(Cache):
    def __init__(self, capacity: int) -> None:
        super().__init__(capacity)
        self.small: OrderedDict[str, int] = OrderedDict()
        self.main: OrderedDict[str, int] = OrderedDict()
        self.ghost: OrderedDict[str, None] = OrderedDict()
        self.freq: dict[str, int] = {}
        self.small_used = 0
        self.small_cap = max(1, capacity // 10)

    def get(self, key: str) -> bool:
        if key in self.small or key in self.main:
            self.freq[key] = min(3, self.freq[key] + 1)
            return True
        return False

    def _evict_small(self) -> None:
        key, size = self.small.popitem(last=False)
        self.small_used -= size
        if self.freq[key] > 0:
            self.main[key] = size
            self.freq[key] = 0
        else:
            self.used -= size
            self.evicted_bytes += size
            del self.freq[key]
            self.ghost[key] = None
            if len(self.ghost) > 4096:
                self.ghost.popitem(last=False)

    def _evict_main(self) -> None:
        while self.main:
            key, size = self.main.popitem(last=False)
            if self.freq[key] > 0:
                self.freq[key] -= 1
                self.main[key] = size
            else:
                self.used -= size
                self.evicted_bytes += size
                del self.freq[key]
                return

    def put(self, key: str, size: int) -> None:
        if size > self.capacity:
            return
        if key in self.small or key in self.main:
            return
        while self.used + size > self.capacity and (self.small or self.main):
            if self.small_used >= self.small_cap or not self.main:
                if self.small:
                    self._evict_small()
                else:
                    self._evict_main()
            else:
                self._evict_main()
        self.freq[key] = 0
        if key in self.ghost:
            del self.ghost[key]
            self.main[key] = size
        else:
            self.small[key] = size
            self.small_used += size
        self.used += size


POLICIES = ("lru", "lfu", "s3fifo")
"""The policies the knob search chooses from (all are workspace policies too)."""


def make(policy: str, capacity: int) -> Cache:
    if policy == "lru":
        return LRU(capacity)
    if policy == "fifo":  # kept for comparisons in tests
        return LRU(capacity, fifo=True)
    if policy == "lfu":
        return LFU(capacity)
    if policy == "s3fifo":
        return S3FIFO(capacity)
    raise ValueError(f"policy: unknown {policy!r}; allowed: {', '.join(POLICIES)}, fifo")


def belady_hits(keys: list[str], sizes: list[int], capacity: int,
                is_get: list[bool] | None = None,
                counted: list[bool] | None = None) -> tuple[int, int]:
    """Hits (on gets) and bytes read on get misses under Belady's furthest-next-use rule.

    Puts (`is_get` False) insert without counting. With equal sizes this is the
    optimum; with mixed sizes it is the customary reference (the exact
    size-aware optimum is NP-hard).
    """
    n = len(keys)
    gets = is_get if is_get is not None else [True] * n
    count = counted if counted is not None else [True] * n
    nxt = [n] * n
    last: dict[str, int] = {}
    for i in range(n - 1, -1, -1):
        nxt[i] = last.get(keys[i], n)
        last[keys[i]] = i
    held: dict[str, int] = {}
    next_use: dict[str, int] = {}
    heap: list[tuple[int, str]] = []
    used = hits = missed = 0
    for i, (k, s) in enumerate(zip(keys, sizes, strict=True)):
        if k in held:
            hits += gets[i] and count[i]
            if held[k] != s:
                used += s - held[k]
                held[k] = s
        else:
            if gets[i] and count[i]:
                missed += s
            if s > capacity:
                continue
            while used + s > capacity and heap:
                neg, victim = heapq.heappop(heap)
                if victim in held and next_use[victim] == -neg:
                    used -= held.pop(victim)
            held[k] = s
            used += s
        next_use[k] = nxt[i]
        heapq.heappush(heap, (-nxt[i], k))
    return hits, missed
