"""Work the daemon runs in its process pool (or Dask cluster) for the workspace:
trace replay for `workspace.simulate`. Module-level and picklable.

`simulate_job` replays every pair in one job; `pairs_job` replays some of the
(policy, capacity) pairs, so a sweep fans out one job per pair or per policy.
Keys come as a trace path (each job reads it: nothing large is shipped), or as
an int64 array / list when the job may run on another host.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .simulate import run_one, simulate
from .traces import read_trace


def load_keys(keys: Any, trace: str | None, fmt: str, limit: int | None) -> list[int]:
    """The request keys, from a trace file or the shipped keys, cut at `limit`."""
    if trace is not None:
        return read_trace(trace, fmt, limit)
    assert keys is not None
    if isinstance(keys, np.ndarray):
        keys = keys.tolist()
    return list(keys[:limit]) if limit is not None else list(keys)


def simulate_job(keys: Any, trace: str | None, fmt: str, limit: int | None,
                 policies: list[str], capacities: list[int], prefetch: bool,
                 report: Any = None) -> dict[str, Any]:
    """Read the trace (if given) in the worker, then replay every policy × capacity."""
    seq = load_keys(keys, trace, fmt, limit)
    out = simulate(seq, policies, capacities, prefetch, report)
    if trace is not None:
        out["trace"] = trace
    return out


def pairs_job(item: tuple[list[tuple[str, int]], bool], keys: Any, trace: str | None,
              fmt: str, limit: int | None, prefetch: bool,
              report: Any = None) -> dict[str, Any]:
    """Replay the (policy, capacity) pairs of `item` (and count the distinct keys when
    its flag says so); rows in the order given. Reports before each pair, so a
    cancelled sweep stops here at the next pair."""
    pairs, count_distinct = item
    seq = load_keys(keys, trace, fmt, limit)
    rows = []
    for i, (p, c) in enumerate(pairs):
        if report is not None:
            report.report(i, len(pairs), f"{p} @ {c}")
        rows.append(run_one(p, c, seq, prefetch))
    out: dict[str, Any] = {"results": rows, "requests": len(seq)}
    if count_distinct:
        out["distinct"] = len(set(seq))
    return out
