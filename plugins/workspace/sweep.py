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
from collections.abc import Callable
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


def write_keys(keys: list[int], folder: Path) -> Path | None:
    """Uploaded keys as a big-endian int64 trace file; None if a key does not fit."""
    try:
        arr = np.asarray(keys, dtype=">i8")
    except OverflowError:
        return None
    fd, name = tempfile.mkstemp(prefix="simulate-", suffix=".i64", dir=folder)
    with os.fdopen(fd, "wb") as f:
        f.write(arr.tobytes())
    return Path(name)


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
        if trace is not None:  # the trace file may not exist where the jobs run
            ship = await asyncio.to_thread(load_keys, None, trace, fmt, limit)
        else:
            ship = keys
        with contextlib.suppress(OverflowError):
            ship = np.asarray(ship, dtype=np.int64)
    path = None if ship is not None else trace
    items = [(pairs, i == 0) for i, pairs in enumerate(jobs)]
    try:
        parts = await executor.map(job, items, args=(ship, path, fmt, limit, prefetch),
                                   progress=progress, label=_label, report=True)
    finally:
        if temp is not None:
            temp.unlink(missing_ok=True)
    return {"results": [row for part in parts for row in part["results"]],
            "requests": parts[0]["requests"], "distinct": parts[0]["distinct"]}
