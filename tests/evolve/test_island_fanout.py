"""Islands fan out through the executor's `map`: a failing island cancels its siblings."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest
import pytest_asyncio
from evolve_island_jobs import FirstCallerFails

from catalytic.daemon.executor import LocalExecutor
from catalytic.plugins.evolve.engine import make_island
from catalytic.plugins.evolve.islands import Evaluator, evolve_islands, run_epoch
from catalytic.plugins.evolve.problems import get_problem
from catalytic.plugins.evolve.spec import parse_spec

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def pool() -> AsyncIterator[LocalExecutor]:
    ex = LocalExecutor(2, logging.getLogger("test.executor"))
    yield ex
    ex.shutdown()


def islands(n: int) -> list[object]:
    p = get_problem("zdt1")
    spec = parse_spec({"genes": p.genome().specs(), "objectives": [{"name": "a"}, {"name": "b"}],
                       "population": 16, "islands": n, "seed": 5})
    return [make_island(spec, sq) for sq in np.random.SeedSequence(5).spawn(n)]


def markers(folder: Path) -> int:
    return sum(1 for p in folder.iterdir() if p.name.startswith("gen-"))


async def test_islands_come_back_in_order_as_run_epoch_makes_them(pool: LocalExecutor) -> None:
    got = await evolve_islands(pool, islands(3), Evaluator("zdt1"), 4, share=40)
    want = [run_epoch(i, Evaluator("zdt1"), 4, 40) for i in islands(3)]
    for a, b in zip(got, want, strict=True):
        assert a.generation == b.generation and a.evaluations == b.evaluations <= 16 + 40
        np.testing.assert_array_equal(a.X, b.X)


async def test_a_failing_island_cancels_its_siblings(pool: LocalExecutor, tmp_path: Path) -> None:
    (tmp_path / "fail").touch()
    evaluator = FirstCallerFails("zdt1", folder=str(tmp_path), pause_s=0.05)
    t0 = time.monotonic()
    with pytest.raises(RuntimeError, match="evaluation failed"):
        # 4 islands × 400 generations × 0.05 s: minutes if the siblings ran on
        await evolve_islands(pool, islands(4), evaluator, 400)
    assert time.monotonic() - t0 < 15
    await asyncio.sleep(0.5)
    before = markers(tmp_path)
    await asyncio.sleep(1.0)
    assert markers(tmp_path) == before, "a sibling island kept evolving"
    assert before < 4 * 400 / 2
    # the pool is free again at once
    assert await asyncio.wait_for(pool.submit(sum, [1, 2]), 10) == 3
