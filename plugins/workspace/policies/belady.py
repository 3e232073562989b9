"""Belady's MIN: evict the resident key whose next use is farthest away.

Offline (it needs the whole trace), so it is a reference bound for the
benchmark, not a live policy. Like libCacheSim's Belady it always admits the
requested key. A heap with lazy deletion gives O(log n) a request.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from .base import Key

NEVER = 1 << 62


def next_uses(keys: Sequence[Key]) -> list[int]:
    """For each position, the index of the same key's next request (or NEVER)."""
    out = [NEVER] * len(keys)
    last: dict[Key, int] = {}
    for i in range(len(keys) - 1, -1, -1):
        k = keys[i]
        out[i] = last.get(k, NEVER)
        last[k] = i
    return out


def belady_hits(keys: Sequence[Key], capacity: int) -> int:
    """Hits of Belady's MIN over `keys` with `capacity` objects of size 1."""
    nxt = next_uses(keys)
    when: dict[Key, int] = {}  # resident key -> its next use
    heap: list[tuple[int, int, Key]] = []  # (-next use, tiebreak, key)
    push, pop = heapq.heappush, heapq.heappop
    hits = 0
    for i, k in enumerate(keys):
        n = nxt[i]
        if k in when:
            hits += 1
        elif len(when) >= capacity:
            while True:
                neg, _, victim = pop(heap)
                if when.get(victim) == -neg:
                    del when[victim]
                    break
        when[k] = n
        push(heap, (-n, i, k))
        if len(heap) > 4 * capacity + 64:
            heap = [(-w, j, key) for j, (key, w) in enumerate(when.items())]
            heapq.heapify(heap)
    return hits
