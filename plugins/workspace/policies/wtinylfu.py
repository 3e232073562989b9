"""W-TinyLFU (Einziger et al., TOS '17): a small LRU window (1%) in front of a
segmented LRU main area (20% probation, 80% protected). A key leaving the
window enters main only if the frequency sketch says it is requested more
often than the key main would evict.

Built as libCacheSim's WTinyLFU, step for step, so simulations give the same
hits: the window is int(1% of capacity) (under 100 objects there is no window
and nothing is admitted, as there); main inserts into the lowest segment with
room and cools like libCacheSim's SLRU; the sketch is libCacheSim's counting
Bloom filter (see sketch.py), counting admissions, main hits and each
admission contest, and halving every `32 × main size` main hits. `hashes=4`
(Caffeine's depth) counts less per request but no longer agrees with
libCacheSim: by up to 12.6 points at some capacities (bench/wtinylfu_small.py).

`access` is the reference: readable, one request at a time. A long replay (a
simulation's whole trace) runs compiled with numba (wtinylfu_kernel.py) over
arrays built from the policy and written back after, and must leave exactly the
state `access` leaves (tests/workspace/test_wtinylfu_kernel.py checks it step
for step). Short calls, as `auto` makes, replays with an eviction listener, and
any replay where numba cannot load go through `access`.

With `sized=True` (byte-sized entries, as in the memory tier) main's size is in
bytes, so the sketch is instead sized by the objects main actually holds and
grows with them; its ageing period follows.
"""

from __future__ import annotations

import itertools
import logging
from collections import OrderedDict
from collections.abc import Iterable

import numpy as np

from .base import Key, Policy
from .sketch import LIBCACHESIM_HASHES, FrequencySketch

log = logging.getLogger(__name__)
_KERNEL_MISSING = False
COMPILED_MIN = 1 << 14
"""Shortest replay sent to the compiled loop: below it, converting the state to arrays and
back (and numba's import) costs more than the loop saves; it must also be at least 1/8 of
the sketch's counters, which are copied each way."""


class WTinyLFU(Policy):
    name = "wtinylfu"
    warm_from_history = False

    def __init__(self, capacity: int, window_ratio: float = 0.01,
                 probation_ratio: float = 0.2, doorkeeper: bool = False,
                 sized: bool = False, hashes: int = LIBCACHESIM_HASHES) -> None:
        super().__init__(capacity)
        self.window_cap = int(capacity * window_ratio)
        self.main_cap = capacity - self.window_cap
        self.probation_cap = int(self.main_cap * probation_ratio)
        self.protected_cap = int(self.main_cap * (1 - probation_ratio))
        self.window: OrderedDict[Key, int] = OrderedDict()
        self.probation: OrderedDict[Key, int] = OrderedDict()
        self.protected: OrderedDict[Key, int] = OrderedDict()
        self.window_used = self.probation_used = self.protected_used = 0
        self.sized = sized
        entries = min(max(1, self.main_cap), 1024) if sized else max(1, self.main_cap)
        # the memo of hashed slots is bounded tighter in the long-lived byte-sized tier
        self.sketch = FrequencySketch(entries, sample=32 * entries, doorkeeper=doorkeeper,
                                      memo_per_entry=2 if sized else 32, hashes=hashes)

    def _grow_sketch(self) -> None:
        """Byte mode: size the sketch for twice the objects main holds (at most main's
        byte size), so estimates stay sharp without a table sized in bytes."""
        sk = self.sketch
        held = len(self.probation) + len(self.protected)
        if held > sk.entries and sk.entries < self.main_cap:
            entries = min(2 * held, self.main_cap)
            sk.grow(entries, [*self.probation, *self.protected])
            sk.sample = 32 * sk.entries

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
        if self.sized:
            self._grow_sketch()

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
        """Long replays of unit-sized keys run compiled (`_replay_compiled`); everything
        else, and everything where numba cannot run, goes through `access` one key at a
        time: slower, the same hits and state."""
        seq = keys if isinstance(keys, list) else list(keys)
        if self._compilable(len(seq)):
            hits = self._replay_compiled(seq)
            if hits is not None:
                return hits
        return super().replay(seq)

    def _compilable(self, n: int) -> bool:
        """Whether a replay of `n` keys is one the kernel models and is long enough to pay
        for converting the state to arrays and back."""
        sk = self.sketch
        unit = self.window_used == len(self.window) and \
            self.probation_used == len(self.probation) and \
            self.protected_used == len(self.protected)
        return unit and not (sk.use_door or self.sized or self.window_cap == 0) and \
            self.on_evict is None and n >= COMPILED_MIN and 8 * n >= sk.n

    def _replay_compiled(self, seq: list[Key]) -> int | None:
        """`replay` through the numba kernel (wtinylfu_kernel.py): the resident keys and
        the trace become dense ids, the segments linked lists over them, the sketch a
        numpy table; all are written back after. None (nothing done) when numba cannot
        run here or a key is not an integer that fits 64 bits."""
        global _KERNEL_MISSING
        if _KERNEL_MISSING:
            return None
        try:
            from . import wtinylfu_kernel as kern
        except (ImportError, OSError) as e:  # no numba here, or no executable memory (W^X)
            _KERNEL_MISSING = True
            log.warning("W-TinyLFU replays in Python (slower): numba is unusable: %s", e)
            return None
        segments = (self.window, self.probation, self.protected)
        resident = [k for seg in segments for k in seg]
        if set(map(type, seq)) - {int} or set(map(type, resident)) - {int}:
            return None
        try:
            arr = np.fromiter(itertools.chain(resident, seq), dtype=np.int64,
                              count=len(resident) + len(seq))
        except (TypeError, ValueError, OverflowError):
            return None
        uniq, inv = np.unique(arr, return_inverse=True)
        sk = self.sketch
        slots = sk.slots_of(uniq.view(np.uint64)).astype(np.int32)
        bounds = np.cumsum([0, *map(len, segments)])
        links = kern.link([inv[a:b] for a, b in itertools.pairwise(bounds)], len(uniq))
        table = np.array(sk.table, dtype=np.int64)
        params = np.zeros(7, dtype=np.int64)
        params[[kern.CAP, kern.MAIN_CAP, kern.PROB_CAP, kern.PROT_CAP]] = \
            self.capacity, self.main_cap, self.probation_cap, self.protected_cap
        params[[kern.SAMPLE, kern.COUNTED, kern.USED]] = sk.sample, sk.hits, self.used
        hits = int(kern.replay(inv[bounds[-1]:], slots, table, *links, params))
        for od, ids in zip(segments, kern.members(links), strict=True):
            od.clear()
            od.update(dict.fromkeys(uniq[ids].tolist(), 1))
        self.window_used, self.probation_used, self.protected_used = map(int, links[-1])
        self.used = int(params[kern.USED])
        sk.hits = int(params[kern.COUNTED])
        sk.table[:] = table.tolist()  # in place: the replay loop binds the list
        return hits

    def adopt(self, keys: list[Key], sizes: dict[Key, int],
              history: Iterable[Key] = ()) -> None:
        """The most recent keys fill the window, the rest go to probation (coldest at
        its LRU end); the sketch counts `history`. Protected stays empty, so the new
        workload's keys fill it while the carried ones are the first victims; admitting
        them as misses would instead freeze protected with keys from before the switch."""
        if self.window_cap == 0:
            return  # nothing is admitted without a window (as in libCacheSim)
        add = self.sketch.add
        for key in history:
            add(key)
        room = self.capacity - self.used
        take: list[Key] = []
        for key in reversed(keys):  # hottest first: they are the ones kept
            s = sizes[key]
            if key not in self and s <= room and s <= self.main_cap:
                take.append(key)
                room -= s
        take.reverse()
        split, w_room = len(take), self.window_cap - self.window_used
        while split and sizes[take[split - 1]] <= w_room:
            split -= 1
            w_room -= sizes[take[split]]
        for key in take[:split]:
            self.probation[key] = s = sizes[key]
            self.probation_used += s
            self.used += s
        for key in take[split:]:
            self.window[key] = s = sizes[key]
            self.window_used += s
            self.used += s
        if self.sized:
            self._grow_sketch()

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
