"""The /metrics scrape with 50 busy methods and 6 plugins, built from the daemon's real parts.

A `ServerState` with a `Dispatcher` of 50 methods (each with a full latency window and
errors), the core `HttpServer` (its `DaemonCollector`), a started `MonitorPlugin` and
five plugins with twenty figures each; /metrics is fetched over real HTTP.
"""

from __future__ import annotations

import asyncio
import logging
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from prometheus_client import CollectorRegistry

from catalytic.config.load import defaults
from catalytic.config.model import CORE
from catalytic.daemon.dispatch import LATENCY_WINDOW, Dispatcher
from catalytic.daemon.executor import LocalExecutor
from catalytic.daemon.http import DaemonCollector, HttpServer
from catalytic.daemon.plugins import Loaded, PluginHost
from catalytic.daemon.state import Limits, ServerState
from catalytic.plugins.base import Method, Plugin, PluginContext
from catalytic.plugins.monitor.plugin import MonitorPlugin

METHODS = 50
PLUGINS = ("workspace", "prd", "evolve", "testrun", "space")


class FakePlugin(Plugin):
    def __init__(self, name: str) -> None:
        self.fake_name = name

    def stats(self) -> dict[str, Any]:
        rnd = random.Random(self.fake_name)
        return {f"figure_{i}": rnd.random() * 1000 for i in range(20)}


def running_host(plugins: dict[str, Plugin]) -> PluginHost:
    """The daemon's plugin host, holding these instances as started plugins."""
    host = PluginHost(logging.getLogger("bench"))
    host.plugins = {n: Loaded(n, cls=type(p), instance=p, state="running")
                    for n, p in plugins.items()}
    return host


def busy_dispatcher() -> Dispatcher:
    d = Dispatcher()
    rnd = random.Random(1)
    for i in range(METHODS):
        d.register(f"p{i % 6}", Method(f"verb{i}", ()), lambda: None)
    for entry in d.table.values():
        for _ in range(LATENCY_WINDOW + 100):
            entry.stats.record(rnd.expovariate(5000), -32602 if rnd.random() < 0.01 else None)
    return d


def timed(fn: Any, n: int = 30) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


async def measure(scrapes: int = 60) -> dict[str, Any]:
    cfg = defaults(CORE)
    cfg.values["http"]["port"] = 0
    root = Path(tempfile.mkdtemp(prefix="catmon"))
    state = ServerState(config=cfg, dispatcher=busy_dispatcher(), socket_path=root / "s",
                        state_dir=root, log=logging.getLogger("bench"),
                        limits=Limits.from_config(cfg), allowed_uids=frozenset(),
                        allowed_gids=frozenset())
    registry = CollectorRegistry(auto_describe=True)
    monitor = MonitorPlugin()
    plugins: dict[str, Plugin] = {name: FakePlugin(name) for name in PLUGINS}
    plugins["monitor"] = monitor
    state.plugins = running_host(plugins)

    async def call(method: str, params: dict[str, Any]) -> Any:
        methods = {n: e.stats.summary() for n, e in state.dispatcher.table.items()}
        return {"methods": methods, "plugins": state.plugins.stats() if state.plugins else {},
                "connections": 0, "requests": 0, "errors": 0}

    settings = {s.key: s.default for s in MonitorPlugin.settings}
    settings["interval_s"] = 3600.0
    executor = LocalExecutor(1, logging.getLogger("bench"))  # the monitor submits no jobs
    ctx = PluginContext(name="monitor", config=settings, state_dir=root, executor=executor,
                        metrics=registry, log=logging.getLogger("bench"), call=call)
    await monitor.start(ctx)
    await monitor.sample_once()
    http = HttpServer(state, registry)
    await http.start()
    assert state.http_url
    times: list[float] = []
    entries = list(state.dispatcher.table.values())
    async with aiohttp.ClientSession() as session:
        for _ in range(scrapes):
            for entry in entries:  # every method was called since the last scrape
                entry.stats.record(0.0002, None)
            t0 = time.perf_counter()
            async with session.get(state.http_url + "metrics") as r:
                body = await r.read()
            times.append((time.perf_counter() - t0) * 1000)
    await http.stop()
    daemon_collector = DaemonCollector(state)

    def collect_after_new_calls() -> None:
        for entry in entries:
            entry.stats.record(0.0002, None)
        list(daemon_collector.collect())

    parts = {"daemon_collector_ms": timed(collect_after_new_calls),
             "monitor_collector_ms": timed(lambda: list(monitor.collector.collect()))}
    await monitor.stop()
    executor.shutdown()
    lines = body.decode().count("\n")
    return {"median_ms": statistics.median(times),
            "p95_ms": sorted(times)[int(0.95 * len(times))],
            "lines": lines, "bytes": len(body), "methods": METHODS, "plugins": len(plugins),
            **parts}


def scrape_figures() -> dict[str, Any]:
    return asyncio.run(measure())


if __name__ == "__main__":
    print(scrape_figures())
