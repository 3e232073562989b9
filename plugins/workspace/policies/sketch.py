"""Frequency sketch for TinyLFU: one table of counters (a counting Bloom filter, the
single-table form of a count-min sketch), sized as libCacheSim's W-TinyLFU sizes it —
ceil(14.38 × entries) counters — and indexed by double hashing `(a + i·b) mod n` in
32-bit arithmetic, where a and b are XXH64 of the 8-byte key under libCacheSim's two
seeds. An estimate is the least of a key's counters, and every counter is halved every
`sample` counted hits so old popularity fades.

`hashes` counters per key: LIBCACHESIM_HASHES (10, libCacheSim's error-0.001 filter)
by default, so simulations agree with the field's reference hit for hit; DEPTH (4, as
Caffeine's sketch) counts less per request, but admission contests then go otherwise.

Integer keys hash exactly as libCacheSim's object ids (little-endian uint64);
other keys (the workspace's strings) go through Python's `hash` first.

`entries` is a number of objects. A byte-sized cache does not know how many
objects it will hold, so `grow()` lets its owner resize the sketch as it fills
(as Caffeine does): memory stays proportional to what is resident, not to the
byte capacity. An optional doorkeeper (a set cleared at every halving) absorbs
each key's first sighting in a period, so one-hit wonders never reach the
counters; libCacheSim has none, so it is off by default.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence

import numpy as np

_M = (1 << 64) - 1
_M32 = 0xFFFFFFFF
_P1, _P2, _P3 = 0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9
_P4, _P5 = 0x85EBCA77C2B2AE63, 0x27D4EB2F165667C5
SEED0, SEED1 = 0x12345678, 0x12344321
"""libCacheSim's HASH_SEED0 and HASH_SEED1."""
_BPE = -math.log(0.001) / 0.480453013918201
LIBCACHESIM_HASHES = math.ceil(0.693147180559945 * _BPE)  # 10
DEPTH = 4
"""Caffeine's counters per key (an option; the default is libCacheSim's 10)."""
MAX_ENTRIES = 1 << 21
"""Largest object count a sketch is sized for (30 M counters, 240 MiB): a guard, far above
the resident objects of any memory tier; a simulated cache holding more distinct keys than
this no longer follows libCacheSim's sizing."""


def xxh64_u64(value: int, seed: int) -> int:
    """XXH64 of one little-endian 64-bit word (the 8-byte input case of the spec)."""
    h = (seed + _P5 + 8) & _M
    k = (value * _P2) & _M
    k = (((k << 31) | (k >> 33)) & _M) * _P1 & _M
    h ^= k
    h = ((((h << 27) | (h >> 37)) & _M) * _P1 + _P4) & _M
    h ^= h >> 33
    h = (h * _P2) & _M
    h ^= h >> 29
    h = (h * _P3) & _M
    return h ^ (h >> 32)


def _xxh64_u64_np(v: np.ndarray, seed: int) -> np.ndarray:
    """`xxh64_u64` over an array of uint64 (wrapping arithmetic)."""
    u = np.uint64
    h = np.full(v.shape, (seed + _P5 + 8) & _M, dtype=np.uint64)
    k = v * u(_P2)
    k = ((k << u(31)) | (k >> u(33))) * u(_P1)
    h ^= k
    h = ((h << u(27)) | (h >> u(37))) * u(_P1) + u(_P4)
    h ^= h >> u(33)
    h *= u(_P2)
    h ^= h >> u(29)
    h *= u(_P3)
    return h ^ (h >> u(32))


def counters_for(entries: int) -> int:
    """Counters of a sketch sized for `entries` objects (libCacheSim's formula)."""
    n = int(min(math.ceil(_BPE * entries), 2**31 - 1))
    return 2 * LIBCACHESIM_HASHES if n < LIBCACHESIM_HASHES else n


class FrequencySketch:
    def __init__(self, entries: int, sample: int, doorkeeper: bool = False,
                 memo_per_entry: int = 32, hashes: int = LIBCACHESIM_HASHES) -> None:
        if not 1 <= hashes <= LIBCACHESIM_HASHES:
            raise ValueError(f"hashes must be 1..{LIBCACHESIM_HASHES}, got {hashes}")
        self.hashes = hashes
        self.entries = max(1, min(int(entries), MAX_ENTRIES))
        self.n = counters_for(self.entries)
        self.table = [0] * self.n
        self.use_door = doorkeeper
        self.door: set[Hashable] = set()
        self.sample = max(1, sample)
        self.hits = 0
        self.memo: dict[Hashable, Sequence[int]] = {}
        """Key → its counter slots (hashing dominates the cost otherwise)."""
        self.memo_per_entry = memo_per_entry
        self._memo_bounds()

    def slots(self, key: Hashable) -> Sequence[int]:
        memo = self.memo
        s = memo.get(key)
        if s is not None:
            return s
        v = key & _M if isinstance(key, int) else hash(key) & _M
        a, b, n = xxh64_u64(v, SEED0) & _M32, xxh64_u64(v, SEED1) & _M32, self.n
        s = tuple(((a + i * b) & _M32) % n for i in range(self.hashes))
        if len(memo) >= self.memo_hard:
            memo.clear()
        memo[key] = s
        return s

    def _memo_bounds(self) -> None:
        """`slots` clears the memo when it reaches `memo_hard` keys: room for a simulation's
        keys (within ~150 MiB), or a tight bound in a long-lived byte-sized cache."""
        per = self.memo_per_entry
        if per >= 8:
            self.memo_hard = 2 * (min(per * self.entries, 1 << 18) + (1 << 16)) + (1 << 17)
        else:
            self.memo_hard = per * self.entries + 1024

    def slots_of(self, values: np.ndarray) -> np.ndarray:
        """`slots` of many integer keys at once: `values` as uint64 (two's complement, the
        same 64 bits as `key & _M`), one row of counter indices (int64) per key."""
        with np.errstate(over="ignore"):
            a = _xxh64_u64_np(values, SEED0) & np.uint64(_M32)
            b = _xxh64_u64_np(values, SEED1) & np.uint64(_M32)
            i = np.arange(self.hashes, dtype=np.uint64)
            idx = ((a[:, None] + i[None, :] * b[:, None]) & np.uint64(_M32)) % np.uint64(self.n)
        return idx.astype(np.int64)

    def add(self, key: Hashable, hit: bool = False) -> None:
        """Count one event for `key`; `hit` events drive the ageing period."""
        if self.use_door and key not in self.door:
            self.door.add(key)
        else:
            t = self.table
            for x in self.slots(key):
                t[x] += 1
        if hit:
            self.hits += 1
            if self.hits >= self.sample:
                self.hits = 0
                self.age()

    def estimate(self, key: Hashable) -> int:
        """Estimated recent count of `key`."""
        t = self.table
        low = min([t[x] for x in self.slots(key)])
        return low + 1 if self.use_door and key in self.door else low

    def age(self) -> None:
        self.door.clear()
        self.table[:] = [c >> 1 for c in self.table]  # in place: callers may hold the list

    def grow(self, entries: int, keys: list[Hashable]) -> None:
        """Resize for `entries` objects, carrying the estimates of `keys` (the resident
        ones); used by byte-sized caches as their object count rises."""
        entries = max(1, min(int(entries), MAX_ENTRIES))
        if entries == self.entries:
            return
        counts = [(k, self.estimate(k)) for k in keys]
        self.entries, self.n = entries, counters_for(entries)
        self.table[:] = [0] * self.n
        self.memo.clear()
        self._memo_bounds()
        t = self.table
        for k, c in counts:
            if c:
                for x in self.slots(k):
                    t[x] = max(t[x], c)
