"""Ping a daemon on its own connection while other work runs, and keep the latencies.

Used by the loop-stall tests and by `bench/workspace_loop_lag.py`: a daemon whose
event loop blocks answers `system.ping` late, so the tail of these latencies is
the worst stall the work caused.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np


async def pings_during(daemon: Any, work: Callable[[Any], Awaitable[Any]],
                       every_s: float = 0.002) -> list[float]:
    """Run `work(client)` on one connection while another pings every `every_s`;
    return the ping round trips in milliseconds."""
    pinger, worker = await daemon.aclient(), await daemon.aclient()
    done = asyncio.Event()
    lat: list[float] = []

    async def ping() -> None:
        while not done.is_set():
            t = time.perf_counter()
            await pinger.call("system.ping")
            lat.append((time.perf_counter() - t) * 1e3)
            await asyncio.sleep(every_s)

    task = asyncio.create_task(ping())
    try:
        await work(worker)
    finally:
        done.set()
        await task
        await pinger.close()
        await worker.close()
    return lat


def p99(lat: list[float]) -> float:
    return float(np.percentile(lat, 99)) if lat else 0.0


async def put_keys(client: Any, n: int, size: int = 256, prefix: str = "k") -> list[str]:
    """Store `n` distinct keys of `size` bytes (pipelined 64 at a time)."""
    keys = [f"{prefix}/{i}" for i in range(n)]
    for lo in range(0, n, 64):
        await asyncio.gather(*(client.call("workspace.put", key=k,
                                           data=k.encode().ljust(size, b"."))
                               for k in keys[lo:lo + 64]))
    return keys


async def get_each(client: Any, keys: list[str]) -> None:
    """`workspace.get` every key, one call at a time (as a pipeline reads its inputs)."""
    for k in keys:
        await client.call("workspace.get", key=k)
