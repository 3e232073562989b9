"""Open-loop pinger: send `system.ping` every interval on its own connection, in its own process.

Run as a script: `python loop_lag_pinger.py SOCKET [INTERVAL_MS]`. It prints `ready`
once connected, pings on a fixed schedule whether or not earlier pings were answered
(so a stalled loop shows as many late answers, not one), and when its stdin closes
prints one JSON line: the latencies in milliseconds. Running in a separate process
keeps the driver's own work (building large calls) out of the measurement.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from catalytic.client import AsyncClient

MAX_OUTSTANDING = 900
"""Stay under the daemon's default `limits.max_inflight` (1024) during a long stall."""


async def main(socket: str, interval: float) -> None:
    client = await AsyncClient(socket).connect()
    latencies: list[float] = []
    outstanding: set[asyncio.Task[None]] = set()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_reader(sys.stdin.fileno(), lambda: stop.set() if not sys.stdin.read(1) else None)

    async def one() -> None:
        t0 = time.perf_counter()
        await client.call("system.ping")
        latencies.append((time.perf_counter() - t0) * 1e3)

    print("ready", flush=True)
    tick = time.perf_counter()
    while not stop.is_set():
        if len(outstanding) < MAX_OUTSTANDING:
            task = asyncio.create_task(one())
            outstanding.add(task)
            task.add_done_callback(outstanding.discard)
        tick += interval
        delay = tick - time.perf_counter()
        if delay < 0:  # fell behind (this process was descheduled): do not burst
            tick = time.perf_counter()
            delay = 0
        try:
            await asyncio.wait_for(stop.wait(), delay)
        except TimeoutError:
            pass
    if outstanding:
        await asyncio.wait(outstanding, timeout=30)
    await client.close()
    print(json.dumps(latencies), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], float(sys.argv[2] if len(sys.argv) > 2 else 2) / 1e3))
