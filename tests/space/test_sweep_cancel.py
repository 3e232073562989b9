"""A sweep point of `space.validate` stops soon after its call is cancelled, though the
job was submitted without progress: the ledger every algorithm charges looks at
`current_job()` as it goes (before, a cancelled point ran to its end, minutes for the
largest Cook–Mertz points, and kept its worker busy)."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from catalytic.daemon.executor import SLOTS, LocalExecutor
from catalytic.plugins.base import current_job
from catalytic.plugins.space import jobs
from catalytic.plugins.space.ledger import CHECK_EVERY, Ledger

HEAVY = ["cook-mertz", 5, 2]  # minutes of work on one core
SPEC = {"seed": 1, "step": "hash"}


async def test_a_cancelled_sweep_point_frees_its_worker() -> None:
    pool = LocalExecutor(1, logging.getLogger("test.space"))
    try:
        task = asyncio.ensure_future(pool.map(jobs.validate_item_job, [HEAVY], args=(SPEC,)))
        await asyncio.sleep(1.5)
        assert not task.done()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        deadline = time.monotonic() + 30
        while len(pool._free_slots) < SLOTS and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert len(pool._free_slots) == SLOTS, "the job is still running"
        assert await pool.submit(jobs.validate_item_job, ["chain", "sqrt", 64], SPEC)
    finally:
        pool.shutdown()


def test_outside_a_job_the_ledger_never_cancels() -> None:
    assert not current_job().cancelled()
    ledger = Ledger()
    for i in range(CHECK_EVERY * 3):
        ledger.alloc(i, 1)
        ledger.free(i)
    assert ledger.peak == 1

