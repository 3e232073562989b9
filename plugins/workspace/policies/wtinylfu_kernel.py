"""W-TinyLFU's replay loop compiled with numba, for whole traces.

The pure-Python loop spends most of each request on the sketch's ten counter
increments; compiled, a request costs tens of nanoseconds. The state is arrays
over dense key ids (0..D-1) that `WTinyLFU._replay_compiled` builds from the
policy and writes back after: a segment tag per id, a doubly-linked list per
segment (head = the LRU end, as `OrderedDict` iteration order), the sketch's
counter table, and each id's counter slots. Every step mirrors `WTinyLFU.access`;
tests compare the two hit for hit and counter for counter.

Importing this module imports numba; the first call compiles (cached on disk
after that, in `__pycache__` or `$NUMBA_CACHE_DIR`, or in each process when neither
is writable), so callers use it only for replays long enough to pay for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit

WINDOW, PROBATION, PROTECTED = 0, 1, 2
ABSENT = -1
CAP, MAIN_CAP, PROB_CAP, PROT_CAP, SAMPLE, COUNTED, USED = range(7)
"""Positions in the `params` array: capacities in objects, the ageing period, hits counted
towards it, and objects resident (the last two are written back)."""


def _compiled(fn: Callable[..., Any]) -> Any:
    try:
        return njit(cache=True, nogil=True)(fn)
    except RuntimeError:  # numba found no writable cache directory: compile per process
        return njit(nogil=True)(fn)


@_compiled
def replay(ids, slots, table, seg, prev, nxt, head, tail, count, params):
    """Replay `ids` (unit sizes); returns the hits and updates every array in place."""
    cap, main_cap = params[CAP], params[MAIN_CAP]
    prob_cap, prot_cap, sample = params[PROB_CAP], params[PROT_CAP], params[SAMPLE]
    counted, used = params[COUNTED], params[USED]

    def unlink(i):
        s, p, q = seg[i], prev[i], nxt[i]
        if p >= 0:
            nxt[p] = q
        else:
            head[s] = q
        if q >= 0:
            prev[q] = p
        else:
            tail[s] = p
        count[s] -= 1
        seg[i] = ABSENT

    def append(i, s):
        t = tail[s]
        prev[i], nxt[i] = t, -1
        if t >= 0:
            nxt[t] = i
        else:
            head[s] = i
        tail[s] = i
        seg[i] = s
        count[s] += 1

    def add(i):
        for j in range(slots.shape[1]):
            table[slots[i, j]] += 1

    def estimate(i):
        low = table[slots[i, 0]]
        for j in range(1, slots.shape[1]):
            low = min(low, table[slots[i, j]])
        return low

    hits = 0
    for t in range(ids.shape[0]):
        k = ids[t]
        s = seg[k]
        if s == PROTECTED:
            unlink(k)
            append(k, PROTECTED)
        elif s == WINDOW:
            unlink(k)
            append(k, WINDOW)
            hits += 1
            continue
        elif s == PROBATION:  # promote; an over-full protected segment cools
            unlink(k)
            append(k, PROTECTED)
            while count[PROTECTED] > prot_cap:
                k2 = head[PROTECTED]
                unlink(k2)
                append(k2, PROBATION)
                while count[PROBATION] > prob_cap:  # (libCacheSim's SLRU cools by eviction)
                    unlink(head[PROBATION])
                    used -= 1
        else:
            while used >= cap:  # free one unit (as `WTinyLFU._evict`)
                if count[WINDOW] == 0:
                    unlink(head[PROBATION if count[PROBATION] else PROTECTED])
                    used -= 1
                    continue
                cand = head[WINDOW]
                unlink(cand)
                admit = True
                if count[PROBATION] + count[PROTECTED] >= main_cap:  # a contest
                    victim = head[PROBATION] if count[PROBATION] else head[PROTECTED]
                    if estimate(cand) > estimate(victim):
                        unlink(victim)
                    else:
                        admit = False
                    used -= 1
                if admit:  # into main: the lowest segment with room
                    if count[PROBATION] < prob_cap or count[PROTECTED] >= prot_cap:
                        append(cand, PROBATION)
                    else:
                        append(cand, PROTECTED)
                add(cand)
            append(k, WINDOW)
            used += 1
            add(k)
            continue
        hits += 1
        add(k)
        counted += 1
        if counted >= sample:
            counted = 0
            for j in range(table.shape[0]):
                table[j] >>= 1
    params[COUNTED], params[USED] = counted, used
    return hits


@_compiled
def walk(first, nxt, n):
    """The `n` ids of one segment from its head (LRU end) on."""
    out = np.empty(n, dtype=np.int64)
    i = first
    for j in range(n):
        out[j] = i
        i = nxt[i]
    return out


Links = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""seg, prev, nxt (one per id), head, tail, count (one per segment): `replay`'s lists."""


def link(segments: list[np.ndarray], ids: int) -> Links:
    """The lists for `ids` dense ids, with `segments[s]` the ids of segment s, LRU first."""
    seg = np.full(ids, ABSENT, dtype=np.int8)
    prev, nxt = np.full(ids, -1, dtype=np.int64), np.full(ids, -1, dtype=np.int64)
    head, tail = np.full(3, -1, dtype=np.int64), np.full(3, -1, dtype=np.int64)
    count = np.zeros(3, dtype=np.int64)
    for s, members in enumerate(segments):
        if len(members):
            seg[members] = s
            prev[members[1:]], nxt[members[:-1]] = members[:-1], members[1:]
            head[s], tail[s], count[s] = members[0], members[-1], len(members)
    return seg, prev, nxt, head, tail, count


def members(links: Links) -> list[np.ndarray]:
    """Each segment's ids, LRU first (`link` undone)."""
    _seg, _prev, nxt, head, _tail, count = links
    return [walk(head[s], nxt, count[s]) for s in (WINDOW, PROBATION, PROTECTED)]
