"""S3-FIFO (Yang et al., SOSP '23): a small FIFO (10%) filters one-hit wonders,
a main FIFO with 2-bit CLOCK reinsertion keeps the rest, a ghost FIFO (90%)
remembers keys evicted from the small queue so they re-enter into main.

Follows libCacheSim's S3FIFO.c: a key leaves the small queue for main once it
was hit `move_to_main_threshold` (2) times there; before the first eviction,
inserts overflow into main once the small queue is full.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from .base import Key, Policy


class S3FIFO(Policy):
    name = "s3fifo"

    def __init__(self, capacity: int, small_ratio: float = 0.1, ghost_ratio: float = 0.9,
                 move_to_main_threshold: int = 2) -> None:
        super().__init__(capacity)
        self.small_cap = int(capacity * small_ratio)
        self.main_cap = capacity - self.small_cap
        self.ghost_cap = int(capacity * ghost_ratio)
        self.threshold = move_to_main_threshold
        self.small: OrderedDict[Key, int] = OrderedDict()
        self.main: OrderedDict[Key, int] = OrderedDict()
        self.ghost: OrderedDict[Key, int] = OrderedDict()
        self.freq: dict[Key, int] = {}
        self.small_used = self.main_used = self.ghost_used = 0
        self.has_evicted = False

    def _evict_small(self) -> None:
        small, freq = self.small, self.freq
        while small:
            key, s = small.popitem(last=False)
            self.small_used -= s
            if freq[key] >= self.threshold:
                freq[key] = 0
                self.main[key] = s
                self.main_used += s
                continue
            del freq[key]
            self.used -= s
            self._evicted(key)
            if self.ghost_cap > 0 and s <= self.ghost_cap:
                ghost = self.ghost
                while self.ghost_used + s > self.ghost_cap:
                    self.ghost_used -= ghost.popitem(last=False)[1]
                ghost[key] = s
                self.ghost_used += s
            return

    def _evict_main(self) -> None:
        main, freq = self.main, self.freq
        while main:
            key = next(iter(main))
            f = freq[key]
            if f >= 1:
                main.move_to_end(key)
                freq[key] = min(f, 3) - 1
                continue
            s = main.pop(key)
            self.main_used -= s
            del freq[key]
            self.used -= s
            self._evicted(key)
            return

    def _evict(self) -> None:
        self.has_evicted = True
        if self.main_used > self.main_cap or self.small_used == 0:
            self._evict_main()
        else:
            self._evict_small()

    def access(self, key: Key, size: int = 1) -> bool:
        freq = self.freq
        f = freq.get(key)
        if f is not None:
            freq[key] = f + 1
            return True
        s = self.ghost.pop(key, None)
        on_ghost = s is not None
        if on_ghost:
            self.ghost_used -= s  # type: ignore[operator]
        if size > self.small_cap or size > self.capacity:
            return False
        while self.used + size > self.capacity:
            self._evict()
        if on_ghost or (size < self.small_cap and not self.has_evicted
                        and self.small_used >= self.small_cap):
            self.main[key] = size
            self.main_used += size
        elif size >= self.small_cap:
            return False  # libCacheSim refuses a key as large as the whole small queue
        else:
            self.small[key] = size
            self.small_used += size
        freq[key] = 0
        self.used += size
        return False

    def replay(self, keys: Iterable[Key]) -> int:
        if self.small_cap <= 1:
            access = self.access
            return sum(1 for k in keys if access(k))
        freq, small, main, ghost = self.freq, self.small, self.main, self.ghost
        get, ghost_pop = freq.get, ghost.pop
        evict_main, evict_small = self._evict_main, self._evict_small
        cap, small_cap, main_cap = self.capacity, self.small_cap, self.main_cap
        hits = 0
        for k in keys:
            f = get(k)
            if f is not None:
                freq[k] = f + 1
                hits += 1
                continue
            # a miss, as `access(k, 1)` (1 < small_cap here)
            s = ghost_pop(k, None)
            if s is not None:
                self.ghost_used -= s
            while self.used >= cap:  # `_evict`, inlined
                self.has_evicted = True
                if self.main_used > main_cap or self.small_used == 0:
                    evict_main()
                else:
                    evict_small()
            if s is not None or (not self.has_evicted and self.small_used >= small_cap):
                main[k] = 1
                self.main_used += 1
            else:
                small[k] = 1
                self.small_used += 1
            freq[k] = 0
            self.used += 1
        return hits

    def remove(self, key: Key) -> bool:
        if self.freq.pop(key, None) is None:
            return False
        s = self.small.pop(key, None)
        if s is not None:
            self.small_used -= s
        else:
            s = self.main.pop(key)
            self.main_used -= s
        self.used -= s
        return True

    def __contains__(self, key: object) -> bool:
        return key in self.freq

    def __len__(self) -> int:
        return len(self.freq)

    def resident(self) -> list[Key]:
        return [*self.small, *self.main]

    def sizes(self) -> dict[Key, int]:
        return {**self.small, **self.main}
