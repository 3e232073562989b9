"""Cancelling tune.run cancels the workspace.simulate call it waits on, and so every
executor job of that call: the pool goes idle long before the run would have ended,
and the daemon keeps answering."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tune_helpers import CONFIG

MakeDaemon = Callable[..., Any]


def write_recording(path: Path, accesses: int, keys: int, seed: int = 3) -> None:
    """A large recording in system.record's format (a Zipf-like key popularity)."""
    rng = random.Random(seed)
    weights = [1 / (i + 1) ** 0.8 for i in range(keys)]
    lines = []
    for k in rng.choices(range(keys), weights, k=accesses):
        lines.append(json.dumps({"t": 0.0, "method": "workspace.get", "bytes": 8,
                                 "latency_us": 40.0 + (k % 7) * 100, "key": f"k{k}"}))
    path.write_text("\n".join(lines) + "\n")


def stats(c: Any) -> dict[str, Any]:
    return c.call("system.stats")["executor"]


def test_cancelling_run_stops_its_jobs(make_daemon: MakeDaemon, tmp_path: Path) -> None:
    big = tmp_path / "big.jsonl"
    write_recording(big, 400_000, 40_000)
    d = make_daemon({**CONFIG, "tune": {"workload_roots": [str(tmp_path)]}})

    async def scenario() -> tuple[dict[str, Any], dict[str, Any], float]:
        runner = await d.aclient(timeout=600)
        watcher = d.client(timeout=30)
        try:
            task = asyncio.create_task(runner.call("tune.run", workload=str(big)))
            deadline = time.monotonic() + 120
            while stats(watcher)["running"] == 0 and time.monotonic() < deadline:
                assert not task.done(), "tune.run ended before any job ran"
                await asyncio.sleep(0.05)
            before = stats(watcher)
            assert before["running"] > 0
            task.cancel()
            cancelled_at = time.monotonic()
            while stats(watcher)["running"] and time.monotonic() < cancelled_at + 60:
                await asyncio.sleep(0.05)
            idle = time.monotonic() - cancelled_at
            await asyncio.sleep(1.0)  # nothing new starts afterwards
            after = stats(watcher)
            assert watcher.call("system.ping") == "pong"
            return before, after, idle
        finally:
            watcher.close()
            await runner.close()

    before, after, idle = asyncio.run(scenario())
    assert after["running"] == 0 and idle < 60
    assert after["cancelled"] > before["cancelled"]
    assert after["submitted"] - before["submitted"] <= 2 * 2  # at most the jobs handed out
