"""A minimal third-party plugin: one quick verb, one CPU-heavy verb, one slow verb."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from catalytic.plugins.base import Call, Param, Plugin, Reporter, RpcError, Setting, rpc


def spin(seconds: float, *, report: Reporter) -> dict[str, Any]:
    """Burn CPU for `seconds` in a worker process, reporting progress every 10 ms."""
    start = time.perf_counter()
    loops = 0
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(10_000):
            loops += 1
        report.report(min(elapsed, seconds), seconds, "spinning")
    return {"seconds": seconds, "loops": loops}


class Hello(Plugin):
    name = "example"
    version = "1.1.0"
    settings = (Setting("greeting", "str", "hello", "What `example.greet` says."),)

    @rpc("greet", Param("who", "str", doc="Whom to greet."), doc="Say hello.")
    async def greet(self, who: str) -> str:
        return f"{self.ctx.config['greeting']}, {who}"

    @rpc("spin", Param("seconds", "float", min=0, max=60), heavy=True,
         doc="Spin the CPU in the daemon's process pool (for latency and cancel tests).")
    async def spin(self, call: Call, seconds: float) -> dict[str, Any]:
        return await self.ctx.executor.submit(spin, seconds, progress=call.progress)

    @rpc("sleep", Param("seconds", "float", min=0, max=3600),
         doc="Wait without using the CPU (for deadline and shutdown tests).")
    async def sleep(self, seconds: float) -> float:
        await asyncio.sleep(seconds)
        return seconds

    @rpc("relay", Param("method", "str"), Param("params", "map", required=False, default={}),
         doc="Call another method through the dispatcher, as plugins call each other.")
    async def relay(self, method: str, params: dict[str, Any]) -> Any:
        return await self.ctx.call(method, params)

    @rpc("fail", Param("code", "int", required=False, default=-33001),
         doc="Answer with a plugin error code.")
    async def fail(self, code: int) -> None:
        raise RpcError("example failure on request", {"asked": code}, code=code)
