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

A long replay (a simulation's whole trace) runs compiled with numba
(wtinylfu_kernel.py) over arrays built from the policy and written back after;
short calls, as `auto` makes, and replays with an eviction listener take the
Python loop. Both leave exactly the state `access` leaves.

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

BATCH = 1 << 16
"""Keys primed at a time when a whole trace's keys would overfill the sketch's memo."""
UNROLLED = LIBCACHESIM_HASHES
"""Counters per key that the replay loop is written out for."""
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
        self._resident_memo: int | None = None
        """The sketch's memo epoch at which every resident key was known memoised."""

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
        sk = self.sketch
        seq = keys if isinstance(keys, list) else list(keys)
        unit = self.window_used == len(self.window) and \
            self.probation_used == len(self.probation) and \
            self.protected_used == len(self.protected)
        if sk.use_door or self.sized or self.window_cap == 0 or not unit:
            return super().replay(seq)
        if self.on_evict is None and len(seq) >= COMPILED_MIN and 8 * len(seq) >= sk.n:
            hits = self._replay_compiled(seq)
            if hits is not None:
                return hits
        if sk.hashes != UNROLLED:
            return super().replay(seq)
        if self._prime(seq):  # the whole trace at once when its keys fit the memo
            return self._replay_primed(seq)
        hits = 0
        for start in range(0, len(seq), BATCH):
            part = seq[start:start + BATCH]
            if self._prime(part):
                hits += self._replay_primed(part)
            else:
                access = self.access
                hits += sum(1 for k in part if access(k))
        return hits

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
        self._resident_memo = None  # keys now resident may never have been memoised
        return hits

    def _prime(self, keys: list[Key]) -> bool:
        """Memoise the sketch slots of `keys` and of every resident key (the replay loop
        indexes the memo directly); the resident keys are listed only when the memo may
        lack some (a cleared memo, or keys adopted from another policy), since listing
        them on every call would cost a chunked replay O(capacity) per chunk."""
        sk = self.sketch
        if self._resident_memo == sk.memo_epoch and sk.prime(keys) and \
                sk.memo_epoch == self._resident_memo:
            return True
        if not sk.prime(keys, self.resident()):
            return False
        self._resident_memo = sk.memo_epoch
        return True

    def _replay_primed(self, keys: list[Key]) -> int:
        """`replay` of unit-sized keys whose sketch slots (and the resident keys') are all
        memoised: every step of `access` inlined, sizes counted as objects, the sketch's
        ten counters unrolled (short calls and calls with an eviction listener)."""
        sk = self.sketch
        window, probation, protected = self.window, self.probation, self.protected
        wmove, pmove, wpop = window.move_to_end, protected.move_to_end, window.popitem
        ppop, rpop = probation.popitem, protected.popitem
        memo, table = sk.memo, sk.table
        cap, main_cap = self.capacity, self.main_cap
        prob_cap, prot_cap = self.probation_cap, self.protected_cap
        n_prob, n_prot = len(probation), len(protected)
        sample, counted = sk.sample, sk.hits
        notify = self.on_evict
        used = self.used
        hits = 0
        for k in keys:
            if k in protected:
                pmove(k)
            elif k in window:
                wmove(k)
                hits += 1
                continue
            elif k in probation:  # promote; an over-full protected segment cools
                del probation[k]
                protected[k] = 1
                n_prot += 1
                n_prob -= 1
                while n_prot > prot_cap:
                    k2, _ = rpop(last=False)
                    n_prot -= 1
                    probation[k2] = 1
                    n_prob += 1
                    while n_prob > prob_cap:  # (libCacheSim's SLRU cools by eviction)
                        out, _ = ppop(last=False)
                        n_prob -= 1
                        used -= 1
                        if notify is not None:
                            notify(out)
            else:
                while used >= cap:  # free one unit (as `_evict`)
                    if not window:
                        out, _ = ppop(last=False) if n_prob else rpop(last=False)
                        if n_prob:
                            n_prob -= 1
                        else:
                            n_prot -= 1
                        used -= 1
                        if notify is not None:
                            notify(out)
                        continue
                    cand, _ = wpop(last=False)
                    c0, c1, c2, c3, c4, c5, c6, c7, c8, c9 = memo[cand]
                    if n_prob + n_prot < main_cap:
                        out = None  # main has room: no contest
                    else:
                        victim = next(iter(probation if n_prob else protected))
                        v0, v1, v2, v3, v4, v5, v6, v7, v8, v9 = memo[victim]
                        vmin = min(table[v0], table[v1], table[v2], table[v3], table[v4],
                                   table[v5], table[v6], table[v7], table[v8], table[v9])
                        # estimate(cand) > vmin, stopping at the first counter that says no
                        if table[c0] > vmin and table[c1] > vmin and table[c2] > vmin and \
                                table[c3] > vmin and table[c4] > vmin and table[c5] > vmin and \
                                table[c6] > vmin and table[c7] > vmin and table[c8] > vmin and \
                                table[c9] > vmin:
                            if n_prob:
                                del probation[victim]
                                n_prob -= 1
                            else:
                                del protected[victim]
                                n_prot -= 1
                            out = victim
                        else:
                            out = cand
                        used -= 1
                        if notify is not None:
                            notify(out)
                    if out is not cand:  # into main: the lowest segment with room
                        if n_prob < prob_cap or n_prot >= prot_cap:
                            probation[cand] = 1
                            n_prob += 1
                        else:
                            protected[cand] = 1
                            n_prot += 1
                    table[c0] += 1
                    table[c1] += 1
                    table[c2] += 1
                    table[c3] += 1
                    table[c4] += 1
                    table[c5] += 1
                    table[c6] += 1
                    table[c7] += 1
                    table[c8] += 1
                    table[c9] += 1
                window[k] = 1
                used += 1
                c0, c1, c2, c3, c4, c5, c6, c7, c8, c9 = memo[k]
                table[c0] += 1
                table[c1] += 1
                table[c2] += 1
                table[c3] += 1
                table[c4] += 1
                table[c5] += 1
                table[c6] += 1
                table[c7] += 1
                table[c8] += 1
                table[c9] += 1
                continue
            hits += 1
            c0, c1, c2, c3, c4, c5, c6, c7, c8, c9 = memo[k]
            table[c0] += 1
            table[c1] += 1
            table[c2] += 1
            table[c3] += 1
            table[c4] += 1
            table[c5] += 1
            table[c6] += 1
            table[c7] += 1
            table[c8] += 1
            table[c9] += 1
            counted += 1
            if counted >= sample:
                counted = 0
                sk.age()
        self.used = used
        self.window_used = len(window)
        self.probation_used, self.protected_used = n_prob, n_prot
        sk.hits = counted
        return hits

    def adopt(self, keys: list[Key], sizes: dict[Key, int],
              history: Iterable[Key] = ()) -> None:
        """The most recent keys fill the window, the rest go to probation (coldest at
        its LRU end); the sketch counts `history`. Protected stays empty, so the new
        workload's keys fill it while the carried ones are the first victims; admitting
        them as misses would instead freeze protected with keys from before the switch."""
        if self.window_cap == 0:
            return  # nothing is admitted without a window (as in libCacheSim)
        self._resident_memo = None  # adopted keys are not memoised
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
