"""The executor contract on a real Dask cluster (`dask scheduler` + two workers): the same
`map` as the local pool — shared arguments, per-job progress, and every job of a map
cancelled when one fails or when the awaiting call is cancelled."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

pytest.importorskip("distributed", reason="the dask extra is not installed")

import contract_jobs
from contract_jobs import add, marks, stepper
from dask_cluster import DaskCluster

from catalytic.daemon.executor_dask import DaskExecutor


@pytest_asyncio.fixture
async def dask(cluster: DaskCluster) -> AsyncIterator[DaskExecutor]:
    ex = DaskExecutor(cluster.address, log=logging.getLogger("test.dask"))
    await ex.start()
    assert ex._usable() is not None and ex.client is not None, ex._why()
    # the workers do not have the tests on their path: send them the jobs' module
    await ex.client.upload_file(contract_jobs.__file__)
    yield ex
    await ex.close()


async def settle(check: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(0.05)
    return check()


async def test_contract_properties(dask: DaskExecutor) -> None:
    assert dask.cluster is True and dask.same_host is False and dask.workers == 2


async def test_map_passes_shared_args_and_forwards_progress(dask: DaskExecutor,
                                                            tmp_path: Path) -> None:
    assert await dask.map(add, range(6), args=(10,), kwargs={"scale": 3}) == \
        [(i + 10) * 3 for i in range(6)]
    seen: list[tuple[float, float | None, str]] = []
    out = await dask.map(stepper, ["a", "b"], args=(str(tmp_path),),
                         kwargs={"steps": 5, "pause": 0.1}, report=True,
                         progress=lambda d, t, m: seen.append((d, t, m)), label=str.upper)
    assert out == ["a", "b"]
    dones = [d for d, _, _ in seen]
    assert dones == sorted(dones) and dones[-1] == 2.0
    assert any(d != int(d) for d in dones), "per-job steps arrive from the workers"
    assert any(m.startswith(("A: step", "B: step")) for _, _, m in seen)


async def test_one_failure_cancels_every_other_job(dask: DaskExecutor, tmp_path: Path) -> None:
    items: list[Any] = [("fail", 0.8)] + [f"s{i}" for i in range(5)]
    with pytest.raises(ValueError, match="failed on purpose"):
        await dask.map(stepper, items, args=(str(tmp_path),),
                       kwargs={"steps": 300, "pause": 0.02}, report=True)
    assert marks(tmp_path, "started"), "a sibling was running when the failure came"
    assert await settle(lambda: marks(tmp_path, "cancelled") >= marks(tmp_path, "started"))
    await asyncio.sleep(1.0)
    assert not marks(tmp_path, "completed")
    assert len(marks(tmp_path, "started")) < 5, "queued siblings never start"


async def test_cancelling_the_caller_cancels_every_job(dask: DaskExecutor,
                                                       tmp_path: Path) -> None:
    task = asyncio.ensure_future(dask.map(stepper, [f"j{i}" for i in range(6)],
                                          args=(str(tmp_path),),
                                          kwargs={"steps": 400, "pause": 0.02}, report=True))
    assert await settle(lambda: len(marks(tmp_path, "started")) >= 2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await settle(lambda: marks(tmp_path, "cancelled") >= marks(tmp_path, "started"))
    await asyncio.sleep(1.0)
    assert not marks(tmp_path, "completed")
    assert dask.running == 0


async def test_a_job_without_progress_sees_its_cancellation(dask: DaskExecutor,
                                                             tmp_path: Path) -> None:
    task = asyncio.ensure_future(dask.submit(contract_jobs.quiet, "q", str(tmp_path), 60.0))
    assert await settle(lambda: "q" in marks(tmp_path, "started"))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await settle(lambda: "q" in marks(tmp_path, "cancelled"))
    assert "q" not in marks(tmp_path, "completed")
