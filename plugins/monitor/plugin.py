"""The RPC face of monitor: sample, keep history, baselines, spans, profiles, dashboard.

The figures come from psutil (`sampler.py`), the loop-lag probe (`probe.py`) and
`system.stats` (per-method figures and every plugin's stats); the math lives in
`summary.py`, the history in `history.py` + `store.py`, the HTTP face in `web.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import time
from typing import Any

from catalytic.plugins.base import (
    Call,
    InvalidParams,
    Param,
    Plugin,
    PluginContext,
    RpcError,
    Setting,
    rpc,
)
from catalytic.plugins.monitor import profiler, summary
from catalytic.plugins.monitor.flatten import StatsFlattener, key
from catalytic.plugins.monitor.history import Ring, Sample, Series, columns
from catalytic.plugins.monitor.probe import LagProbe
from catalytic.plugins.monitor.prom import MonitorCollector
from catalytic.plugins.monitor.sampler import ProcessSampler
from catalytic.plugins.monitor.spans import SpanBook, SpanError
from catalytic.plugins.monitor.store import MonitorStore

UNKNOWN_BASELINE = -33001
SPAN_ERROR = -33002
PROFILE_BUSY = -33003
SPAN_CODES = {"unknown": SPAN_ERROR, "ended": -33004, "expired": -33005, "too_many": -33006}


class MonitorPlugin(Plugin):
    name = "monitor"
    version = "0.1.0"
    settings = (
        Setting("interval_s", "float", 1.0, "Seconds between samples (process, methods, "
                "plugins).", min=0.05, max=3600),
        Setting("history_samples", "int", 900, "Samples kept in memory (the dashboard window).",
                min=10, max=1_000_000),
        Setting("retention_s", "float", 7 * 86400.0,
                "Samples older than this are deleted from SQLite.", min=60),
        Setting("lag_probe_s", "float", 0.1, "How often the loop-lag probe schedules a "
                "callback.", min=0.005, max=60),
        Setting("lag_warn_ms", "float", 250.0, "Loop lag above this is reported as a health "
                "problem.", min=1),
        Setting("report_window_s", "float", 300.0, "Seconds of history a report or baseline "
                "summarizes.", min=1),
        Setting("span_timeout_s", "float", 3600.0, "Open spans older than this expire.",
                min=1),
        Setting("profile_max_s", "float", 300.0, "Longest monitor.profile allowed.", min=0.1),
        Setting("refresh_s", "float", 2.0, "Dashboard refresh interval.", min=0.5, max=600),
    )

    async def start(self, ctx: PluginContext) -> None:
        self.ctx = ctx
        cfg = ctx.config
        self.store = await asyncio.to_thread(MonitorStore.open, ctx)
        self.ring = Ring(cfg["history_samples"])
        self.flat = StatsFlattener()
        self.sampler = ProcessSampler()
        self.spans = SpanBook(timeout_s=cfg["span_timeout_s"])
        self.probe = LagProbe(cfg["lag_probe_s"])
        self.latest_stats: dict[str, Any] = {}
        self.pending: list[Sample] = []
        self.samples_taken = 0
        self.lag_problems = 0
        self.sample_errors = 0
        self.last_error = ""
        self.profiling = False
        self.shrinks = 0
        self._sampling = asyncio.Lock()
        """One sample at a time: the sampler's rates are differences between calls."""
        self.collector = MonitorCollector(self.ring.last, self.spans.series, self.counters)
        ctx.metrics.register(self.collector)
        self.tasks = [asyncio.create_task(self.probe.run()),
                      asyncio.create_task(self.sample_loop())]

    async def restore(self) -> None:
        since = time.time() - self.ctx.config["retention_s"]
        self.ring.extend(await asyncio.to_thread(self.store.load, since, self.ring.capacity))
        for name, seconds in await asyncio.to_thread(self.store.load_spans, self.spans.window):
            with contextlib.suppress(SpanError):
                self.spans.record(name, seconds)

    async def snapshot(self) -> None:
        await self.flush()
        await asyncio.to_thread(self.store.prune, time.time() - self.ctx.config["retention_s"])
        await asyncio.to_thread(self.store.prune_spans, self.spans.window)

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.flush()
        with contextlib.suppress(Exception):
            self.ctx.metrics.unregister(self.collector)
        await asyncio.to_thread(self.store.close)

    # -- sampling --------------------------------------------------------------------------
    async def sample_loop(self) -> None:
        while True:
            await asyncio.sleep(self.ctx.config["interval_s"])
            try:
                await self.sample_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.sample_errors += 1
                self.last_error = f"{type(exc).__name__}: {exc}"
                self.ctx.log.exception("monitor: sample failed")

    async def sample_once(self) -> Sample:
        async with self._sampling:
            return await self._sample()

    async def _sample(self) -> Sample:
        mono, now = time.monotonic(), time.time()
        values = await asyncio.to_thread(self.sampler.sample, mono)
        stats = await self.ctx.call("system.stats", {})
        values.update(self.flat.methods(stats.get("methods") or {}, mono))
        values.update(self.flat.plugins(stats.get("plugins") or {}))
        values.update(self.flat.daemon(stats))
        lag_max, lag_mean, _n = self.probe.drain()
        values[key("loop.lag_max_ms")] = lag_max * 1000.0
        values[key("loop.lag_mean_ms")] = lag_mean * 1000.0
        if lag_max * 1000.0 > self.ctx.config["lag_warn_ms"]:
            self.lag_problems += 1
        self.latest_stats = stats
        sample = (now, values)
        self.ring.add(*sample)
        self.pending.append(sample)
        self.samples_taken += 1
        if len(self.pending) >= 5:
            await self.flush()
        return sample

    async def flush(self) -> None:
        if self.pending:
            batch, self.pending = self.pending, []
            await asyncio.to_thread(self.store.append, batch)

    def counters(self) -> dict[str, Any]:
        return {"samples": self.samples_taken, "lag_problems": self.lag_problems}

    def health_problems(self) -> list[str]:
        """Problems for /healthz (loop lag above monitor.lag_warn_ms in the last sample)."""
        last = self.ring.last()
        warn = self.ctx.config["lag_warn_ms"]
        problems = []
        if last and last[1].get("loop.lag_max_ms", 0.0) > warn:
            problems.append(f"event-loop lag {last[1]['loop.lag_max_ms']:.0f} ms > "
                            f"monitor.lag_warn_ms {warn:g}")
        if self.sample_errors and self.last_error and self.samples_taken == 0:
            problems.append(f"monitor cannot sample: {self.last_error}")
        return problems

    def stats(self) -> dict[str, Any]:
        last = self.ring.last()
        values = last[1] if last else {}
        problems = self.health_problems()
        return {"samples": self.samples_taken, "history": len(self.ring),
                "loop_lag_ms": values.get("loop.lag_max_ms"),
                "healthy": not problems, "problems": problems,
                "lag_problems": self.lag_problems, "sample_errors": self.sample_errors,
                "spans": self.spans.stats(), "shrinks": self.shrinks}

    def memory_bytes(self) -> int:
        return self.ring.memory_bytes()

    async def shrink(self, target_bytes: int) -> int:
        """Drop the oldest in-memory samples (they stay in SQLite)."""
        held = self.ring.memory_bytes()
        if held <= target_bytes or not len(self.ring):
            return 0
        await self.flush()
        self.ring.drop_oldest(min(1.0, (held - target_bytes) / held))
        self.shrinks += 1
        return held - self.ring.memory_bytes()

    # -- reports and baselines ---------------------------------------------------------------
    async def window_series(self, window_s: float | None) -> Series:
        """The window's values, one list per metric (slices of the ring's columns); when
        it holds none yet (just after start, or a window shorter than the interval), a
        sample is taken now rather than answering nothing."""
        since = time.time() - (window_s or self.ctx.config["report_window_s"])
        if not self.ring.count_since(since):
            await self.sample_once()
        # a metrics × samples grid of floats, and the columns it is built from
        self.ctx.admit(self.ring.count_since(since) * len(self.ring.cols) * 24,
                       "a monitor report's window")
        return self.ring.series(since)

    @staticmethod
    def _report(series: Series, spans: dict[str, list[float]],
                base: dict[str, Any] | None) -> dict[str, Any]:
        result: dict[str, Any] = summary.json_safe(
            summary.report({**series, **spans}, base))
        return result

    @staticmethod
    def _baseline(series: Series, spans: dict[str, list[float]]) -> dict[str, Any]:
        sums = summary.summarize_many({**series, **spans})
        return {m: s for m, s in sums.items() if s["n"]}

    @rpc("report", Param("baseline", "str", required=False, doc="Compare with this baseline."),
         Param("window_s", "float", required=False, min=0.001,
               doc="Seconds of history to summarize (default monitor.report_window_s)."),
         doc="metric → {mean, median, stdev, p95, improvement_vs_baseline (positive = better),"
             " direction}.")
    async def report(self, baseline: str | None, window_s: float | None) -> dict[str, Any]:
        base = None
        if baseline is not None:
            found = await asyncio.to_thread(self.store.baseline, baseline)
            if found is None:
                known = await asyncio.to_thread(self.store.baselines)
                raise RpcError(f"no baseline named {baseline!r}; known: "
                               f"{', '.join(n for n, _ in known) or 'none'}",
                               {"baseline": baseline}, code=UNKNOWN_BASELINE)
            base = found[1]
        series = await self.window_series(window_s)
        # hundreds of metrics over a long window: summarised off the loop
        return await asyncio.to_thread(self._report, series, self.spans.series(), base)

    @rpc("baseline.save", Param("name", "str", doc="Name to save under (replaces)."),
         Param("window_s", "float", required=False, min=0.001),
         doc="Snapshot the current summaries of every metric under `name`.")
    async def baseline_save(self, name: str, window_s: float | None) -> dict[str, Any]:
        if not name.strip() or len(name) > 200:
            raise InvalidParams("baseline name must be 1-200 characters, not blank")
        series = await self.window_series(window_s)
        sums = await asyncio.to_thread(self._baseline, series, self.spans.series())
        created = await asyncio.to_thread(self.store.save_baseline, name,
                                          summary.json_safe(sums))
        return {"name": name, "created": created, "metrics": len(sums)}

    @rpc("baseline.list", doc="Saved baselines with their creation times.")
    async def baseline_list(self) -> list[dict[str, Any]]:
        rows = await asyncio.to_thread(self.store.baselines)
        return [{"name": n, "created": c} for n, c in rows]

    # -- spans -----------------------------------------------------------------------------
    @rpc("span.start", Param("name", "str", doc="What is being timed."),
         doc="Open a timing span; returns its id for monitor.span.end.")
    async def span_start(self, name: str) -> dict[str, Any]:
        if not name or len(name) > 200:
            raise InvalidParams("span name must be 1-200 characters")
        return {"id": self._span(lambda: self.spans.start(name))}

    @rpc("span.end", Param("id", "str", doc="The id monitor.span.start returned."),
         doc="Close a span; errors for an unknown, already ended or expired id.")
    async def span_end(self, id: str) -> dict[str, Any]:
        name, seconds = self._span(lambda: self.spans.end(id))
        await asyncio.to_thread(self.store.add_span, name, seconds)
        return {"id": id, "name": name, "seconds": seconds}

    @rpc("measure", Param("name", "str"), Param("seconds", "float", min=0),
         doc="Record a duration the client timed itself (a span in one call).")
    async def measure(self, name: str, seconds: float) -> dict[str, Any]:
        if not name or len(name) > 200:
            raise InvalidParams("measure name must be 1-200 characters")
        self._span(lambda: self.spans.record(name, seconds))
        await asyncio.to_thread(self.store.add_span, name, seconds)
        return {"name": name, "count": self.spans.counts[name]}

    @staticmethod
    def _span(fn: Any) -> Any:
        try:
            return fn()
        except SpanError as exc:
            raise RpcError(str(exc), {"reason": exc.reason},
                           code=SPAN_CODES[exc.reason]) from None

    # -- history ---------------------------------------------------------------------------
    @rpc("history", Param("since", "float", required=False, default=0.0),
         Param("prefixes", "list", items="str", required=False, default=[]),
         Param("limit", "int", required=False, default=900, min=1, max=100000),
         doc="Samples after `since` (unix time) in column form; older than memory → SQLite.")
    async def history(self, since: float, prefixes: list[str], limit: int) -> dict[str, Any]:
        return await self.history_columns(since, limit, tuple(prefixes))

    async def history_columns(self, since: float, limit: int,
                              prefixes: tuple[str, ...] = ()) -> dict[str, Any]:
        """Samples after `since` in column form: slices of the ring's columns, or read back
        from SQLite (and put in columns there, off the loop) when older than memory."""
        last = self.ring.last()
        from_store = 0 < since < self.ring.first_time()
        if from_store:  # count first, load only if it fits
            stored = await asyncio.to_thread(self.store.count_since, since)
            rows = min(limit, stored + len(self.pending))
        else:
            rows = min(limit, self.ring.count_since(since))
        # each value: a float in a sample's dict, then in its column (about 64 bytes)
        self.ctx.admit(rows * (len(last[1]) if last else 0) * 64, "monitor.history")
        if not from_store:
            return self.ring.columns(since, limit, prefixes)
        await self.flush()
        return await asyncio.to_thread(
            lambda: columns(self.store.load(since, limit), prefixes))

    # -- profiling -------------------------------------------------------------------------
    @rpc("profile", Param("seconds", "float", min=0.01, doc="How long to profile."),
         Param("plugin", "str", required=False, doc="Only functions of this plugin's package."),
         Param("top", "int", required=False, default=25, min=1, max=500),
         Param("prof", "bool", required=False, default=False, doc="Also return .prof bytes."),
         doc="cProfile the event loop; hottest functions by cumulative and own time.")
    async def profile(self, call: Call, seconds: float, plugin: str | None, top: int,
                      prof: bool) -> dict[str, Any]:
        if seconds > self.ctx.config["profile_max_s"]:
            raise InvalidParams(f"seconds = {seconds:g} is above monitor.profile_max_s "
                                f"({self.ctx.config['profile_max_s']:g})")
        if self.profiling:
            raise RpcError("a profile is already running; wait for it", code=PROFILE_BUSY)
        self.profiling = True
        profile = cProfile.Profile()
        started = time.monotonic()
        try:
            profile.enable()
            try:
                while (left := seconds - (time.monotonic() - started)) > 0:
                    await asyncio.sleep(min(1.0, left))
                    call.progress(min(seconds, time.monotonic() - started), seconds, "profiling")
            finally:
                profile.disable()
        finally:
            self.profiling = False
        result = profiler.hottest(profile, top, plugin)
        result.update({"seconds": time.monotonic() - started, "plugin": plugin,
                       "scope": "event loop thread (executor processes are not profiled)"})
        if prof:
            result["prof"] = profiler.prof_bytes(profile)
        return result

    def http_routes(self) -> Any:
        from catalytic.plugins.monitor.web import routes

        return routes(self)
