"""`workspace.simulate` spread over the daemon's executor: one job per
(policy, capacity) pair, or one per policy when there are at least as many
policies as workers (each job then reads the trace once for all its capacities).
Results are gathered in request order, so they equal one job's.

Jobs on this host read a trace path; uploaded keys are written once to a
temporary binary trace in the plugin's state directory and read by every job.
A Dask cluster that may be on other hosts gets the keys instead (an int64
array: 8 bytes a key).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from catalytic.plugins.base import Executor, ProgressFn

from .jobs import load_keys, pairs_job


def plan(policies: list[str], capacities: list[int], workers: int) -> list[list[tuple[str, int]]]:
    """The pairs of each job, in result order."""
    if len(capacities) > 1 and len(policies) >= workers:
        return [[(p, c) for c in capacities] for p in policies]
    return [[(p, c)] for p in policies for c in capacities]


def same_host(executor: Any) -> bool:
    """Whether jobs run where this process's files are (the local pool, a LocalCluster)."""
    return getattr(executor, "backend", "local") == "local" or not getattr(executor, "address", "")


def _write_keys(keys: list[int], folder: Path) -> Path | None:
    """Uploaded keys as a big-endian int64 trace file; None if a key does not fit."""
    try:
        arr = np.asarray(keys, dtype=">i8")
    except OverflowError:
        return None
    fd, name = tempfile.mkstemp(prefix="simulate-", suffix=".i64", dir=folder)
    with os.fdopen(fd, "wb") as f:
        f.write(arr.tobytes())
    return Path(name)


async def fan_out(executor: Executor, progress: ProgressFn, scratch: Path, keys: list[int] | None,
                  trace: str | None, fmt: str, limit: int | None, policies: list[str],
                  capacities: list[int], prefetch: bool) -> dict[str, Any]:
    """Run the sweep as several jobs; progress counts completed pairs."""
    jobs = plan(policies, capacities, executor.workers)
    total = sum(len(j) for j in jobs)
    temp: Path | None = None
    ship: Any = None
    if same_host(executor):
        if keys is not None:
            temp = await asyncio.to_thread(_write_keys, keys, scratch)
            if temp is None:
                ship = keys
            else:
                trace, fmt = str(temp), "i64"
    else:
        if trace is not None:  # the trace file may not exist where the jobs run
            ship = await asyncio.to_thread(load_keys, None, trace, fmt, limit)
        else:
            ship = keys
        with contextlib.suppress(OverflowError):
            ship = np.asarray(ship, dtype=np.int64)
    path = None if ship is not None else trace
    done = 0

    async def one(i: int, pairs: list[tuple[str, int]]) -> dict[str, Any]:
        nonlocal done
        out: dict[str, Any] = await executor.submit(pairs_job, ship, path, fmt, limit, pairs,
                                                    prefetch, i == 0)
        done += len(pairs)
        progress(done, total, f"{pairs[-1][0]} @ {pairs[-1][1]}")
        return out

    progress(0, total, f"{len(jobs)} jobs on {executor.workers} workers")
    tasks = [asyncio.ensure_future(one(i, pairs)) for i, pairs in enumerate(jobs)]
    try:
        parts = await asyncio.gather(*tasks)
    except BaseException:
        for t in tasks:
            t.cancel()
        raise
    finally:
        if temp is not None:
            temp.unlink(missing_ok=True)
    return {"results": [row for part in parts for row in part["results"]],
            "requests": parts[0]["requests"], "distinct": parts[0]["distinct"]}
