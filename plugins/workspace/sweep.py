"""How `workspace.simulate` splits a sweep into jobs for the daemon's executor:
one job per (policy, capacity) pair, or one per policy when there are at least
as many policies as workers (each job then reads the trace once for all its
capacities). The executor's `map` runs them, all or nothing; results come back
in request order, so they equal one job's.

Jobs on this host read a trace path; uploaded keys are written once to a
temporary binary trace in the plugin's state directory and read by every job.
Jobs that may run on another host get the keys instead (an int64 array: 8 bytes
a key).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import numpy as np

from catalytic.plugins.base import Executor, ProgressFn

from .jobs import load_keys, pairs_job

Pairs = list[tuple[str, int]]


def plan(policies: list[str], capacities: list[int], workers: int) -> list[Pairs]:
    """The pairs of each job, in result order."""
    if len(capacities) > 1 and len(policies) >= workers:
        return [[(p, c) for c in capacities] for p in policies]
    return [[(p, c)] for p in policies for c in capacities]


CHUNK = 1 << 16
"""Keys converted per numpy call: each call holds the GIL, so a conversion in a worker
thread gives the event loop a turn at least this often (a few ms)."""


def to_int64(keys: list[int], dtype: str = ">i8") -> np.ndarray | None:
    """The keys as an int64 array, converted a chunk at a time; None if a key does not
    fit in 64 signed bits."""
    arr = np.empty(len(keys), dtype=dtype)
    try:
        for lo in range(0, len(keys), CHUNK):
            arr[lo:lo + CHUNK] = keys[lo:lo + CHUNK]
    except OverflowError:
        return None
    return arr


def write_keys(keys: list[int], folder: Path) -> Path | None:
    """Uploaded keys as a big-endian int64 trace file; None if a key does not fit."""
    arr = to_int64(keys)
    if arr is None:
        return None
    fd, name = tempfile.mkstemp(prefix="simulate-", suffix=".i64", dir=folder)
    with os.fdopen(fd, "wb") as f:
        f.write(arr.tobytes())
    return Path(name)


@contextlib.asynccontextmanager
async def job_input(executor: Executor, scratch: Path, keys: list[int] | None,
                    trace: str | None, fmt: str,
                    limit: int | None) -> AsyncIterator[tuple[Any, str | None, str]]:
    """What jobs are given instead of the caller's keys or trace: `(keys, trace, fmt)`.

    On this host, uploaded keys go to a temporary trace file (removed on exit), which
    each job reads: nothing large is pickled on its way to the pool. Jobs that may run
    elsewhere get the keys as an int64 array (the trace file may not exist there)."""
    temp: Path | None = None
    ship: Any = None
    if executor.same_host:
        if keys is not None:
            temp = await asyncio.to_thread(write_keys, keys, scratch)
            if temp is None:
                ship = keys
            else:
                trace, fmt = str(temp), "i64"
    else:
        if trace is not None:
            ship = await asyncio.to_thread(load_keys, None, trace, fmt, limit)
        else:
            ship = keys
        arr = await asyncio.to_thread(to_int64, ship, "i8")
        if arr is not None:
            ship = arr
    try:
        yield ship, None if ship is not None else trace, fmt
    finally:
        if temp is not None:
            temp.unlink(missing_ok=True)


def _label(item: tuple[Pairs, bool]) -> str:
    """A job's name in progress messages: its policy, or its one pair."""
    pairs = item[0]
    return pairs[0][0] if len(pairs) > 1 else f"{pairs[0][0]} @ {pairs[0][1]}"


async def run_sweep(executor: Executor, progress: ProgressFn, scratch: Path,
                    keys: list[int] | None, trace: str | None, fmt: str, limit: int | None,
                    policies: list[str], capacities: list[int], prefetch: bool,
                    job: Callable[..., dict[str, Any]] = pairs_job) -> dict[str, Any]:
    """The sweep as several jobs of one `executor.map`; progress counts jobs (a running
    job by the pairs it finished). A failed job cancels the others."""
    jobs = plan(policies, capacities, executor.workers)
    items = [(pairs, i == 0) for i, pairs in enumerate(jobs)]
    async with job_input(executor, scratch, keys, trace, fmt, limit) as (ship, path, fmt):
        parts = await executor.map(job, items, args=(ship, path, fmt, limit, prefetch),
                                   progress=progress, label=_label, report=True)
    return {"results": [row for part in parts for row in part["results"]],
            "requests": parts[0]["requests"], "distinct": parts[0]["distinct"]}
