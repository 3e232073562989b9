"""`workspace.simulate` fans out over the executor and gives one job's results."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ws_helpers import DATA, zipf_keys

from catalytic.plugins.workspace.fanout import fan_out, plan
from catalytic.plugins.workspace.simulate import simulate
from catalytic.plugins.workspace.traces import read_trace

TRACE = DATA / "web07-20k.trace.xz"


class FakeExecutor:
    """Runs jobs in threads; records what each job was sent."""

    def __init__(self, workers: int, backend: str = "local", address: str = "") -> None:
        self.workers, self.backend, self.address = workers, backend, address
        self.sent: list[tuple[Any, ...]] = []

    async def submit(self, fn: Callable[..., Any], *args: Any, progress: Any = None,
                     **kwargs: Any) -> Any:
        self.sent.append(args)
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def map(self, fn: Callable[[Any], Any], items: Any, *, progress: Any = None) -> Any:
        return [await self.submit(fn, item) for item in items]


def _run(ex: FakeExecutor, scratch: Path, keys: list[int] | None, trace: str | None,
         policies: list[str], capacities: list[int]) -> tuple[dict[str, Any], list[Any]]:
    seen: list[Any] = []
    out = asyncio.run(fan_out(ex, lambda d, t, m: seen.append((d, t)), scratch, keys, trace,
                              "auto", None, policies, capacities, False))
    return out, seen


def test_plan_per_pair_or_per_policy() -> None:
    assert plan(["lru", "arc"], [10, 20], 4) == [[("lru", 10)], [("lru", 20)], [("arc", 10)],
                                                 [("arc", 20)]]
    assert plan(["lru", "arc"], [10, 20], 2) == [[("lru", 10), ("lru", 20)],
                                                 [("arc", 10), ("arc", 20)]]


@pytest.mark.parametrize("workers", [2, 8])
def test_uploaded_keys_go_through_a_file_and_match_one_job(tmp_path: Path, workers: int) -> None:
    keys = zipf_keys(0.9, 2000, 8000, seed=2)
    policies, capacities = ["lru", "wtinylfu", "auto"], [50, 400]
    ex = FakeExecutor(workers)
    out, seen = _run(ex, tmp_path, keys, None, policies, capacities)
    assert out == simulate(keys, policies, capacities)
    assert all(args[0] is None and args[1].endswith(".i64") for args in ex.sent)  # a path
    assert len(ex.sent) == (6 if workers == 8 else 3)
    assert seen[-1] == (6, 6) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert not list(tmp_path.iterdir())  # the temporary trace is gone


def test_trace_path_is_read_by_each_job(tmp_path: Path) -> None:
    trace = tmp_path / "web07.trace.xz"
    shutil.copy(TRACE, trace)
    ex = FakeExecutor(4)
    out, _ = _run(ex, tmp_path, None, str(trace), ["s3fifo", "sieve"], [100, 300])
    assert out == simulate(read_trace(trace), ["s3fifo", "sieve"], [100, 300])
    assert {args[1] for args in ex.sent} == {str(trace)}


def test_remote_cluster_gets_the_keys(tmp_path: Path) -> None:
    trace = tmp_path / "web07.trace.xz"
    shutil.copy(TRACE, trace)
    ex = FakeExecutor(4, backend="dask", address="tcp://elsewhere:8786")
    out, _ = _run(ex, tmp_path, None, str(trace), ["lru", "arc"], [100, 300])
    assert out == simulate(read_trace(trace), ["lru", "arc"], [100, 300])
    assert all(args[1] is None and len(args[0]) == 20_000 for args in ex.sent)


def test_keys_beyond_int64_are_shipped(tmp_path: Path) -> None:
    keys = [(1 << 63) + i % 50 for i in range(500)]
    ex = FakeExecutor(4)
    out, _ = _run(ex, tmp_path, keys, None, ["lru", "sieve"], [10, 20])
    assert out == simulate(keys, ["lru", "sieve"], [10, 20])
    assert all(isinstance(args[0], list) and args[1] is None for args in ex.sent)


def test_capacity_beyond_the_distinct_keys_only_misses_first_sightings() -> None:
    from catalytic.plugins.workspace.policies import NAMES
    from catalytic.plugins.workspace.simulate import run_one

    keys = zipf_keys(0.8, 3000, 10_000, seed=4)
    for policy in NAMES:  # built for max(distinct, 100) objects, not 50 M
        row = run_one(policy, 50_000_000, keys)
        assert row["capacity"] == 50_000_000
        assert row["misses"] == len(set(keys)), policy
