"""`workspace.simulate`'s sweep runs as one `executor.map` on the daemon's real pool:
the same results as one job, keys shipped the right way, and a failed job cancels
its siblings."""

from __future__ import annotations

import asyncio
import functools
import logging
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sweep_jobs import FAIL, failing_pairs_job
from ws_helpers import DATA, zipf_keys

from catalytic.daemon.executor import LocalExecutor
from catalytic.plugins.workspace.simulate import simulate
from catalytic.plugins.workspace.sweep import plan, run_sweep
from catalytic.plugins.workspace.traces import read_trace

TRACE = DATA / "web07-20k.trace.xz"
POLICIES = ["lru", "sieve", "arc", "s3fifo", "lfu", "wtinylfu", "auto"]
"""More policies than workers: one job per policy, the first one failing."""


class RecordingPool(LocalExecutor):
    """The daemon's process pool, noting what each job was sent; `remote` makes it
    say its jobs may run on another host."""

    def __init__(self, workers: int, remote: bool = False) -> None:
        super().__init__(workers, logging.getLogger("test.sweep"))
        self.remote = remote
        self.sent: list[tuple[Any, ...]] = []

    @property
    def same_host(self) -> bool:
        return not self.remote

    async def submit(self, fn: Callable[..., Any], *args: Any, progress: Any = None,
                     **kwargs: Any) -> Any:
        self.sent.append(args)
        return await super().submit(fn, *args, progress=progress, **kwargs)


@pytest.fixture
def pools() -> Iterator[list[RecordingPool]]:
    made: list[RecordingPool] = []
    yield made
    for p in made:
        p.shutdown()


def _run(pool: RecordingPool, scratch: Path, keys: list[int] | None, trace: str | None,
         policies: list[str], capacities: list[int],
         **kw: Any) -> tuple[dict[str, Any], list[Any]]:
    seen: list[Any] = []
    out = asyncio.run(run_sweep(pool, lambda d, t, m: seen.append((d, t)), scratch, keys,
                                trace, "auto", None, policies, capacities, False, **kw))
    return out, seen


def test_plan_per_pair_or_per_policy() -> None:
    assert plan(["lru", "arc"], [10, 20], 4) == [[("lru", 10)], [("lru", 20)], [("arc", 10)],
                                                 [("arc", 20)]]
    assert plan(["lru", "arc"], [10, 20], 2) == [[("lru", 10), ("lru", 20)],
                                                 [("arc", 10), ("arc", 20)]]


@pytest.mark.parametrize("workers", [2, 8])
def test_uploaded_keys_go_through_a_file_and_match_one_job(tmp_path: Path, workers: int,
                                                           pools: list[RecordingPool]) -> None:
    keys = zipf_keys(0.9, 2000, 8000, seed=2)
    policies, capacities = ["lru", "wtinylfu", "auto"], [50, 400]
    pools.append(pool := RecordingPool(workers))
    out, seen = _run(pool, tmp_path, keys, None, policies, capacities)
    assert out == simulate(keys, policies, capacities)
    # each job: (item, keys, path, ...): a path, no keys
    assert all(args[1] is None and args[2].endswith(".i64") for args in pool.sent)
    jobs = 6 if workers == 8 else 3
    assert len(pool.sent) == jobs
    assert seen[-1] == (jobs, jobs) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert not list(tmp_path.iterdir())  # the temporary trace is gone


def test_trace_path_is_read_by_each_job(tmp_path: Path, pools: list[RecordingPool]) -> None:
    trace = tmp_path / "web07.trace.xz"
    shutil.copy(TRACE, trace)
    pools.append(pool := RecordingPool(4))
    out, _ = _run(pool, tmp_path, None, str(trace), ["s3fifo", "sieve"], [100, 300])
    assert out == simulate(read_trace(trace), ["s3fifo", "sieve"], [100, 300])
    assert {args[2] for args in pool.sent} == {str(trace)}


def test_jobs_elsewhere_get_the_keys(tmp_path: Path, pools: list[RecordingPool]) -> None:
    trace = tmp_path / "web07.trace.xz"
    shutil.copy(TRACE, trace)
    pools.append(pool := RecordingPool(2, remote=True))
    out, _ = _run(pool, tmp_path, None, str(trace), ["lru", "arc"], [100, 300])
    assert out == simulate(read_trace(trace), ["lru", "arc"], [100, 300])
    assert all(args[2] is None and len(args[1]) == 20_000 for args in pool.sent)


def test_keys_beyond_int64_are_shipped(tmp_path: Path, pools: list[RecordingPool]) -> None:
    keys = [(1 << 63) + i % 50 for i in range(500)]
    pools.append(pool := RecordingPool(2))
    out, _ = _run(pool, tmp_path, keys, None, ["lru", "sieve"], [10, 20])
    assert out == simulate(keys, ["lru", "sieve"], [10, 20])
    assert all(isinstance(args[1], list) and args[2] is None for args in pool.sent)


def _marks(folder: Path, what: str) -> set[str]:
    return {p.name.rsplit(".", 1)[0] for p in folder.glob(f"*.{what}")}


def test_a_failed_job_cancels_its_siblings(tmp_path: Path, pools: list[RecordingPool]) -> None:
    marks, scratch = tmp_path / "marks", tmp_path / "scratch"
    marks.mkdir()
    scratch.mkdir()
    pools.append(pool := RecordingPool(2))
    keys = zipf_keys(0.9, 500, 2000, seed=3)
    job = functools.partial(failing_pairs_job, marks=str(marks))
    with pytest.raises(ValueError, match="failed on purpose"):
        _run(pool, scratch, keys, None, POLICIES, [FAIL[1], 50], job=job)
    started = _marks(marks, "started")
    assert started, "siblings were running when the failure came"
    deadline = time.monotonic() + 20
    while _marks(marks, "cancelled") < _marks(marks, "started") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _marks(marks, "cancelled") >= _marks(marks, "started")
    time.sleep(0.5)
    assert not _marks(marks, "completed")
    assert len(_marks(marks, "started")) < len(POLICIES) - 1, "queued siblings never start"
    assert not list(scratch.iterdir())  # the temporary trace is gone after the failure


def test_capacity_beyond_the_distinct_keys_only_misses_first_sightings() -> None:
    from catalytic.plugins.workspace.policies import NAMES
    from catalytic.plugins.workspace.simulate import run_one

    keys = zipf_keys(0.8, 3000, 10_000, seed=4)
    for policy in NAMES:  # built for max(distinct, 100) objects, not 50 M
        row = run_one(policy, 50_000_000, keys)
        assert row["capacity"] == 50_000_000
        assert row["misses"] == len(set(keys)), policy
