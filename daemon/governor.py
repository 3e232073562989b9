"""The memory governor: keep the daemon inside `daemon.memory_budget`.

Above the soft limit it asks plugins (largest first) to `shrink`, then
collects garbage and hands freed heap back to the OS; above the hard limit
(the budget itself) heavy calls are refused with -32002 until RSS falls.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
import time
from typing import Any

import psutil

from catalytic.config.model import ram_quarter
from catalytic.daemon.plugins import PluginHost
from catalytic.daemon.state import ServerState

RSS_MAX_AGE_S = 0.005
"""How stale an admission's RSS may be (a sample costs tens of microseconds)."""


def _malloc_trim() -> None:
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class MemoryGovernor:
    def __init__(self, state: ServerState, host: PluginHost, log: logging.Logger) -> None:
        self.state = state
        self.host = host
        self.log = log
        self.proc = psutil.Process()
        self.rss = 0
        self.peak_rss = 0
        self.shrinks = 0
        self.freed_bytes = 0
        self.refusing = False
        self._sampled_at = 0.0

    def current_rss(self) -> int:
        """RSS at most `RSS_MAX_AGE_S` old, for admission (`PluginContext.admit`)."""
        now = time.monotonic()
        if now - self._sampled_at > RSS_MAX_AGE_S:
            self.rss = self.proc.memory_info().rss
            self.peak_rss = max(self.peak_rss, self.rss)
            self._sampled_at = now
        return self.rss

    @property
    def budget(self) -> int:
        return int(self.state.config.values["daemon"]["memory_budget"]) or ram_quarter()

    @property
    def soft_limit(self) -> int:
        return int(self.budget * self.state.config.values["daemon"]["memory_soft_ratio"])

    async def run(self) -> None:
        while True:
            await self.check()
            await asyncio.sleep(self.state.config.values["daemon"]["governor_interval_s"])

    async def check(self) -> None:
        self._sampled_at = 0.0
        self.current_rss()
        if self.budget <= 0 or self.rss <= self.soft_limit:
            self._set_overloaded(False)
            return
        over = self.rss - self.soft_limit
        freed = 0
        plugins = sorted(self.host.running(), key=lambda np: -np[1].memory_bytes())
        for name, plugin in plugins:
            if freed >= over:
                break
            held = plugin.memory_bytes()
            if held <= 0:
                continue
            target = max(0, held - (over - freed))
            try:
                got = await plugin.shrink(target)
            except Exception:
                self.log.exception("plugin %s: shrink failed", name)
                continue
            freed += got
            self.log.info("memory governor: %s freed %d bytes (RSS %d > soft limit %d)",
                          name, got, self.rss, self.soft_limit)
        gc.collect()
        _malloc_trim()
        self.shrinks += 1
        self.freed_bytes += freed
        self.rss = self.proc.memory_info().rss
        self._set_overloaded(self.rss > self.budget)

    def _set_overloaded(self, value: bool) -> None:
        if value != self.refusing:
            self.refusing = value
            self.log.warning("memory governor: %s heavy calls (RSS %d, budget %d)",
                             "refusing" if value else "accepting again", self.rss, self.budget)
        self.state.overloaded = value
        self.state.overload_reason = (f"memory above budget: RSS {self.rss} > "
                                      f"daemon.memory_budget {self.budget}") if value else ""

    def stats(self) -> dict[str, Any]:
        return {"rss_bytes": self.rss, "peak_rss_bytes": self.peak_rss, "budget": self.budget,
                "soft_limit": self.soft_limit, "shrinks": self.shrinks,
                "freed_bytes": self.freed_bytes, "refusing_heavy_calls": self.refusing}
