"""A test run as static shards on the daemon's executor (`shards = "dask"`).

Why: when the executor is a Dask cluster, a suite can spread over machines.
The daemon collects, plans shards by LPT from history (`schedule.plan_shards`),
sends each shard as one job (`shard_job.run_shard`), then runs the run-alone
tests as a last job, and merges everything into the summary a local run
gives (same counts, same fields). Progress is the sum over the shards.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catalytic.plugins.base import Executor
from catalytic.plugins.testrun.errors import RunFailed, collection_failed
from catalytic.plugins.testrun.estimate import estimate
from catalytic.plugins.testrun.history import TestStats
from catalytic.plugins.testrun.results import summarize
from catalytic.plugins.testrun.schedule import matches_any, plan_shards
from catalytic.plugins.testrun.shard_job import collect, run_shard_checked

Progress = Callable[[float, float | None, str], None]


@dataclass
class ShardOptions:
    root: Path
    python: str
    shards: int
    args: list[str]
    env: dict[str, str]
    """Environment for collecting on the daemon's host."""
    passthrough: list[str]
    """Variable patterns the job takes from its own host's environment."""
    shim: tuple[Path, Path]
    worker_root: str
    worker_python: str
    timeout_s: float
    max_output: int
    memory_heavy_bytes: int
    run_alone: list[str]
    seed: int | None = None


def _fail(out: dict[str, Any]) -> None:
    err = out.get("error")
    if err:
        raise RunFailed.from_map(err)


async def run_sharded(executor: Executor, o: ShardOptions, history: dict[str, TestStats],
                      progress: Progress) -> dict[str, Any]:
    """Collect here, run the shards on the executor, merge: `results.summarize`'s shape."""
    t0 = time.monotonic()
    col = await asyncio.to_thread(collect, str(o.root), o.python, o.args, o.env, o.shim, o.seed)
    _fail(col)
    if col["errors"]:
        raise collection_failed(col["errors"])
    tests: list[str] = col["tests"]
    skips = [{"nodeid": str(k.get("nodeid")), "outcome": "skipped", "duration_s": 0.0,
              "message": str(k.get("message", "")), "collection": True} for k in col["skips"]]
    ex = estimate(tests, history, o.memory_heavy_bytes)
    alone = set(col["alone"]) | {t for t in tests if matches_any(t, o.run_alone)}
    plan = plan_shards(tests, ex, o.shards, alone)
    def scaled(start: float, weight: float) -> Progress:
        """Jobs done (fractions, from map or submit) as a count of tests."""
        def report(n: float, total: float | None, message: str) -> None:
            part = start + n / max(1.0, float(total or 1)) * weight
            progress(int(part * len(tests)), len(tests), message)
        return report

    def spec(ids: list[str]) -> dict[str, Any]:
        return {"root": o.worker_root, "python": o.worker_python, "args": o.args, "ids": ids,
                "passthrough": o.passthrough, "timeout_s": o.timeout_s,
                "max_output": o.max_output, "seed": o.seed}

    parallel = [ids for ids in plan.shards if ids]
    weight = sum(len(ids) for ids in parallel) / max(1, len(tests))
    # all or nothing: a shard that fails (RunFailed) cancels the others, and nothing more starts
    outs: list[dict[str, Any]] = await executor.map(
        run_shard_checked, [spec(ids) for ids in parallel], report=True,
        progress=scaled(0.0, weight),
        label=lambda s: f"shard of {len(s['ids'])} tests")
    names = [f"s{i}" for i, ids in enumerate(plan.shards) if ids]
    if plan.alone:
        outs.append(await executor.submit(run_shard_checked, spec(plan.alone),
                                          progress=scaled(weight, 1.0 - weight)))
        names.append("alone")
    results: dict[str, dict[str, Any]] = {}
    order: dict[str, list[str]] = {}
    for name, out in zip(names, outs, strict=True):
        order[name] = [r["nodeid"] for r in out["results"]]
        for r in out["results"]:
            results[r["nodeid"]] = {**r, "worker": f"{name}@{out.get('host', '')}"}
    merged = skips + [results[t] for t in tests if t in results]
    summary = summarize(merged, max(1, o.shards), time.monotonic() - t0,
                        plan.expected_makespan, order)
    summary.update(shards=len(names), shard_hosts=sorted({str(o.get("host", "")) for o in outs}),
                   warm_workers=False)
    return summary
