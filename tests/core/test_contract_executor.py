"""The executor contract, run on each backend (the daemon's process pool and a real Dask
cluster of two workers): `map` with shared arguments, per-job progress, and cancellation
of every job of a map when one fails or when the awaiting call is cancelled (issue 14,
item 3). What only the process pool has (its cancel slots) is tested on it alone."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import contract_jobs
import pytest
import pytest_asyncio
from contract_jobs import add, marks, quiet, sleeper, stepper

from catalytic.daemon.executor import SLOTS, BaseExecutor, LocalExecutor

HAS_DASK = importlib.util.find_spec("distributed") is not None


async def local_pool() -> LocalExecutor:
    return LocalExecutor(2, logging.getLogger("test.executor"))


async def dask_executor(request: pytest.FixtureRequest) -> BaseExecutor:
    from catalytic.daemon.executor_dask import DaskExecutor

    cluster = request.getfixturevalue("cluster")
    ex = DaskExecutor(cluster.address, log=logging.getLogger("test.dask"))
    await ex.start()
    assert ex._usable() is not None and ex.client is not None, ex._why()
    # the workers do not have the tests on their path: send them the jobs' module
    await ex.client.upload_file(contract_jobs.__file__)
    return ex


@pytest_asyncio.fixture(params=[
    "pool", pytest.param("dask", marks=pytest.mark.skipif(
        not HAS_DASK, reason="the dask extra is not installed"))])
async def executor(request: pytest.FixtureRequest) -> AsyncIterator[BaseExecutor]:
    ex = await local_pool() if request.param == "pool" else await dask_executor(request)
    yield ex
    await ex.close()


@pytest_asyncio.fixture
async def pool() -> AsyncIterator[LocalExecutor]:
    ex = await local_pool()
    yield ex
    ex.shutdown()


async def settle(check: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(0.05)
    return check()


async def test_contract_properties(executor: BaseExecutor) -> None:
    if isinstance(executor, LocalExecutor):
        assert executor.same_host is True and executor.cluster is False
    else:
        assert executor.same_host is False and executor.cluster is True
    assert executor.workers == 2


async def test_map_passes_shared_args_and_keeps_order(executor: BaseExecutor) -> None:
    seen: list[tuple[float, float | None, str]] = []
    out = await executor.map(add, range(10), args=(100,), kwargs={"scale": 2},
                             progress=lambda d, t, m: seen.append((d, t, m)),
                             label=lambda i: f"item {i}")
    assert out == [(i + 100) * 2 for i in range(10)]
    assert [d for d, _, _ in seen] == list(range(1, 11))
    assert all(type(d) is int for d, _, _ in seen), "whole counts travel as integers"
    assert {t for _, t, _ in seen} == {10}
    assert {m for _, _, m in seen} == {f"item {i}" for i in range(10)}
    assert await executor.map(add, [], args=(1,)) == []


async def test_map_forwards_each_jobs_progress(executor: BaseExecutor, tmp_path: Path) -> None:
    seen: list[tuple[float, float | None, str]] = []
    out = await executor.map(stepper, ["a", "b", "c"], args=(str(tmp_path),),
                             kwargs={"steps": 5, "pause": 0.1}, report=True,
                             progress=lambda d, t, m: seen.append((d, t, m)), label=str.upper)
    assert out == ["a", "b", "c"]
    dones = [d for d, _, _ in seen]
    assert dones == sorted(dones) and dones[-1] == 3.0
    assert any(d != int(d) for d in dones), "running jobs move the count by fractions"
    assert any(m.startswith(("A: step", "B: step", "C: step")) for _, _, m in seen)
    assert {t for _, t, _ in seen} == {3}


async def test_one_failure_cancels_every_other_job(executor: BaseExecutor,
                                                   tmp_path: Path) -> None:
    items: list[Any] = [("fail", 0.8)] + [f"s{i}" for i in range(5)]
    with pytest.raises(ValueError, match="failed on purpose"):
        await executor.map(stepper, items, args=(str(tmp_path),),
                           kwargs={"steps": 300, "pause": 0.02}, report=True)
    assert marks(tmp_path, "started"), "a sibling was running when the failure came"
    assert await settle(lambda: marks(tmp_path, "cancelled") >= marks(tmp_path, "started"))
    await asyncio.sleep(1.0)
    assert not marks(tmp_path, "completed")
    assert len(marks(tmp_path, "started")) < 5, "queued siblings never start"
    assert await settle(lambda: executor.running == 0)


async def test_cancelling_the_caller_cancels_every_job(executor: BaseExecutor,
                                                       tmp_path: Path) -> None:
    task = asyncio.ensure_future(executor.map(stepper, [f"j{i}" for i in range(6)],
                                              args=(str(tmp_path),),
                                              kwargs={"steps": 400, "pause": 0.02},
                                              report=True))
    assert await settle(lambda: len(marks(tmp_path, "started")) >= 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await settle(lambda: marks(tmp_path, "cancelled") >= marks(tmp_path, "started"))
    await asyncio.sleep(1.0)
    assert not marks(tmp_path, "completed")
    assert executor.cancelled >= 2 and executor.running == 0


async def test_a_job_without_progress_sees_its_cancellation(executor: BaseExecutor,
                                                             tmp_path: Path) -> None:
    task = asyncio.ensure_future(executor.submit(quiet, "q", str(tmp_path), 60.0))
    assert await settle(lambda: "q" in marks(tmp_path, "started"))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await settle(lambda: "q" in marks(tmp_path, "cancelled"))
    assert "q" not in marks(tmp_path, "completed")


async def test_submit_cancellation_reaches_a_reporting_job(executor: BaseExecutor,
                                                           tmp_path: Path) -> None:
    steps: list[float] = []
    task = asyncio.ensure_future(executor.submit(stepper, "solo", str(tmp_path), steps=400,
                                                 pause=0.02,
                                                 progress=lambda d, t, m: steps.append(d)))
    assert await settle(lambda: len(steps) >= 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await settle(lambda: "solo" in marks(tmp_path, "cancelled"))
    assert "solo" not in marks(tmp_path, "completed")


async def test_every_cancel_slot_comes_back(pool: LocalExecutor, tmp_path: Path) -> None:
    """The process pool's cancel slots: freed once each cancelled job really ended."""
    task = asyncio.ensure_future(pool.map(stepper, [f"j{i}" for i in range(6)],
                                          args=(str(tmp_path),),
                                          kwargs={"steps": 300, "pause": 0.02}, report=True))
    assert await settle(lambda: len(marks(tmp_path, "started")) >= 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await settle(lambda: len(pool._free_slots) == SLOTS)


async def test_more_jobs_than_cancel_slots(pool: LocalExecutor) -> None:
    """Slots are reused: a map far longer than the slot table runs to the end."""
    n = SLOTS + 500
    assert await pool.map(add, range(n), args=(1,)) == [i + 1 for i in range(n)]
    assert len(pool._free_slots) == SLOTS


async def test_jobs_without_progress_are_cancellable_too(pool: LocalExecutor,
                                                         tmp_path: Path) -> None:
    """No `report`: queued jobs are dropped; the running ones finish unobserved."""
    task = asyncio.ensure_future(pool.map(sleeper, [f"q{i}" for i in range(12)],
                                          args=(str(tmp_path), 0.6)))
    assert await settle(lambda: len(marks(tmp_path, "started")) >= 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(2.5)
    assert len(marks(tmp_path, "started")) <= 5, marks(tmp_path, "started")
    # the pool is free again: a new job runs at once
    assert await pool.submit(add, 1, 2) == 3


async def test_current_job_outside_a_job_is_never_cancelled() -> None:
    from catalytic.plugins.base import current_job

    assert current_job().cancelled() is False
    current_job().report(1, 2, "ignored")
