"""W-TinyLFU (Einziger et al., TOS '17): a small LRU window (1%) in front of a
segmented LRU main area (20% probation, 80% protected). A key leaving the
window enters main only if the frequency sketch (count-min, optionally behind
a doorkeeper) says it is requested more often than the key main would evict.
The doorkeeper is off by default: libCacheSim has none, and with it on hit
ratios run up to a few points above libCacheSim's (see docs/workspace.md).

Shaped like libCacheSim's WTinyLFU so hit ratios are comparable: the window is
int(1% of capacity) (under 100 objects there is no window and nothing is
admitted, as there); main inserts into the lowest segment with room; the
sketch counts admissions, main hits and each admission contest, and ages
every `32 × main size` main hits.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from .base import Key, Policy
from .sketch import FrequencySketch


class WTinyLFU(Policy):
    name = "wtinylfu"

    def __init__(self, capacity: int, window_ratio: float = 0.01,
                 probation_ratio: float = 0.2, doorkeeper: bool = False) -> None:
        super().__init__(capacity)
        self.window_cap = int(capacity * window_ratio)
        self.main_cap = capacity - self.window_cap
        self.probation_cap = int(self.main_cap * probation_ratio)
        self.protected_cap = int(self.main_cap * (1 - probation_ratio))
        self.window: OrderedDict[Key, int] = OrderedDict()
        self.probation: OrderedDict[Key, int] = OrderedDict()
        self.protected: OrderedDict[Key, int] = OrderedDict()
        self.window_used = self.probation_used = self.protected_used = 0
        self.sketch = FrequencySketch(max(1, self.main_cap), sample=32 * max(1, self.main_cap),
                                       doorkeeper=doorkeeper)

    # -- main area (segmented LRU) -------------------------------------------------
    def _main_insert(self, key: Key, s: int) -> None:
        if self.probation_used + s <= self.probation_cap or \
                self.protected_used + s > self.protected_cap:
            self.probation[key] = s
            self.probation_used += s
        else:
            self.protected[key] = s
            self.protected_used += s

    def _main_victim(self) -> Key:
        return next(iter(self.probation)) if self.probation else next(iter(self.protected))

    def _main_pop(self, key: Key) -> int:
        s = self.probation.pop(key, None)
        if s is not None:
            self.probation_used -= s
            return s
        s = self.protected.pop(key)
        self.protected_used -= s
        return s

    def _promote(self, key: Key) -> None:
        s = self.probation.pop(key)
        self.probation_used -= s
        self.protected[key] = s
        self.protected_used += s
        while self.protected_used > self.protected_cap:
            k, ks = self.protected.popitem(last=False)
            self.protected_used -= ks
            self.probation[k] = ks
            self.probation_used += ks
            # as libCacheSim's SLRU: an over-full probation segment cools by eviction, which
            # frees a main slot that the next window victim takes without a contest
            while self.probation_used > self.probation_cap:
                v, vs = self.probation.popitem(last=False)
                self.probation_used -= vs
                self._drop(v, vs)

    # -- eviction ------------------------------------------------------------------
    def _drop(self, key: Key, s: int) -> None:
        self.used -= s
        self._evicted(key)

    def _evict(self) -> None:
        """Free room for one key: settle the window's LRU key against main's victim."""
        window = self.window
        sketch = self.sketch
        while window:
            cand, cs = window.popitem(last=False)
            self.window_used -= cs
            if self.probation_used + self.protected_used + cs <= self.main_cap:
                self._main_insert(cand, cs)
                sketch.add(cand)
                continue
            victim = next(iter(self.probation)) if self.probation else next(iter(self.protected))
            if sketch.estimate(cand) > sketch.estimate(victim):
                self._drop(victim, self._main_pop(victim))
                self._main_insert(cand, cs)
            else:
                self._drop(cand, cs)
            sketch.add(cand)
            return
        k = self._main_victim()
        self._drop(k, self._main_pop(k))

    def _miss(self, key: Key, size: int) -> None:
        if self.window_cap == 0 or size > self.capacity:
            return
        while self.used + size > self.capacity:
            self._evict()
        self.window[key] = size
        self.window_used += size
        self.used += size
        self.sketch.add(key)

    def access(self, key: Key, size: int = 1) -> bool:
        if key in self.window:
            self.window.move_to_end(key)
            return True
        if key in self.probation:
            self._promote(key)
            self.sketch.add(key, hit=True)
            return True
        if key in self.protected:
            self.protected.move_to_end(key)
            self.sketch.add(key, hit=True)
            return True
        self._miss(key, size)
        return False

    def replay(self, keys: Iterable[Key]) -> int:
        window, probation, protected = self.window, self.probation, self.protected
        wmove, pmove = window.move_to_end, protected.move_to_end
        sk = self.sketch
        add, promote, miss, evict = sk.add, self._promote, self._miss, self._evict
        memo_get, slots, table = sk.memo.get, sk._slots, sk.table
        fast = not sk.use_door and self.window_cap > 0
        cap, main_cap = self.capacity, self.main_cap
        hits = 0
        for k in keys:
            if k in window:
                wmove(k)
                hits += 1
                continue
            if k in protected:
                pmove(k)
            elif k in probation:
                promote(k)
            elif fast and window and self.used >= cap:
                # the common miss, inlined: one admission contest, then insert into the window
                cand, cs = window.popitem(last=False)
                self.window_used -= cs
                if self.probation_used + self.protected_used + cs <= main_cap:
                    self._main_insert(cand, cs)
                    add(cand)
                else:
                    victim = next(iter(probation)) if probation else next(iter(protected))
                    a, b, c, d = memo_get(cand) or slots(cand)
                    e, f, g, h = memo_get(victim) or slots(victim)
                    if min(table[a], table[b], table[c], table[d]) > \
                            min(table[e], table[f], table[g], table[h]):
                        self._drop(victim, self._main_pop(victim))
                        self._main_insert(cand, cs)
                    else:
                        self._drop(cand, cs)
                    table[a] += 1
                    table[b] += 1
                    table[c] += 1
                    table[d] += 1
                while self.used + 1 > cap:
                    evict()
                window[k] = 1
                self.window_used += 1
                self.used += 1
                a, b, c, d = memo_get(k) or slots(k)
                table[a] += 1
                table[b] += 1
                table[c] += 1
                table[d] += 1
                continue
            else:
                miss(k, 1)
                continue
            hits += 1
            if fast:  # sketch.add(k, hit=True), inlined: this is the hot path
                a, b, c, d = memo_get(k) or slots(k)
                table[a] += 1
                table[b] += 1
                table[c] += 1
                table[d] += 1
                sk.hits += 1
                if sk.hits >= sk.sample:
                    sk.hits = 0
                    sk._age()
            else:
                add(k, True)
        return hits

    def remove(self, key: Key) -> bool:
        s = self.window.pop(key, None)
        if s is not None:
            self.window_used -= s
        elif key in self.probation or key in self.protected:
            s = self._main_pop(key)
        else:
            return False
        self.used -= s
        return True

    def __contains__(self, key: object) -> bool:
        return key in self.window or key in self.probation or key in self.protected

    def __len__(self) -> int:
        return len(self.window) + len(self.probation) + len(self.protected)

    def resident(self) -> list[Key]:
        return [*self.probation, *self.protected, *self.window]

    def sizes(self) -> dict[Key, int]:
        return {**self.window, **self.probation, **self.protected}
