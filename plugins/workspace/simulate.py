"""Trace replay through policies, capacities and (optionally) prefetch.

Plain functions of lists, so the daemon runs them in its process pool and the
benchmark calls them directly. `report(done, total, message)` is optional.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

from .policies import make
from .policies.base import Policy
from .prefetch import PrefetchStats, SuccessorModel

Report = Callable[[float, float | None, str], None]


def replay_prefetch(policy: Policy, keys: Sequence[Hashable], depth: int = 2,
                    sizes: Mapping[Any, int] | None = None,
                    model: SuccessorModel | None = None) -> tuple[int, PrefetchStats]:
    """Replay with prefetch: after each access, admit up to `depth` predicted
    successors that are not resident; `sizes` (by key, any hashable key type: the
    mapping is only read) weighs each access. Returns (demand hits, prefetch stats)."""
    model = model or SuccessorModel()
    stats = PrefetchStats()
    pending: set[Hashable] = set()  # prefetched, not yet used
    policy.on_evict = pending.discard
    access, observe, predict = policy.access, model.observe, model.predict
    hits = 0
    for k in keys:
        size = sizes[k] if sizes is not None else 1
        if access(k, size):
            hits += 1
            if k in pending:
                pending.discard(k)
                stats.used += 1
        else:
            stats.demand_misses += 1
            stats.demand_miss_bytes += size
        observe(k)
        for nk in predict(k, depth):
            if nk not in policy:
                nsize = sizes[nk] if sizes is not None else 1
                access(nk, nsize)
                if nk in policy:
                    pending.add(nk)
                    stats.issued += 1
                    stats.bytes_prefetched += nsize
    policy.on_evict = None
    return hits, stats


def run_one(policy: str, capacity: int, keys: Sequence[Hashable], prefetch: bool = False,
            depth: int = 2) -> dict[str, Any]:
    """One row of `workspace.simulate`: hits, misses, hit ratio (+ prefetch figures).

    A capacity above the trace's distinct keys evicts nothing under any policy, so the
    policy is built for max(distinct, 100) objects then (100: W-TinyLFU still has a
    window, S3-FIFO a small queue): the same hits, without tables sized for the rest."""
    size = capacity
    if capacity > 1 << 16:
        size = min(capacity, max(len(set(keys)), 100))
    pol = make(policy, size)
    row: dict[str, Any] = {"policy": policy, "capacity": capacity, "prefetch": prefetch}
    if prefetch:
        hits, stats = replay_prefetch(pol, keys, depth)
        row["prefetch_stats"] = stats.as_dict()
    else:
        hits = pol.replay(keys)
    n = len(keys)
    row.update(hits=hits, misses=n - hits, hit_ratio=round(hits / n, 6) if n else 0.0)
    return row


def simulate(keys: Sequence[Hashable], policies: Sequence[str], capacities: Sequence[int],
             prefetch: bool = False, report: Any = None) -> dict[str, Any]:
    """Every (policy, capacity) pair over `keys`; `report` is a Reporter or callable."""
    rows = []
    total = len(policies) * len(capacities)
    step = getattr(report, "report", report)
    for i, (p, c) in enumerate((p, c) for p in policies for c in capacities):
        if step is not None:
            step(i, total, f"{p} @ {c}")
        rows.append(run_one(p, c, keys, prefetch))
    if step is not None:
        step(total, total, "done")
    return {"results": rows, "requests": len(keys), "distinct": len(set(keys))}
