"""Prometheus collector for the monitor's own figures (`catalytic_monitor_...`).

It reads the newest sample at scrape time (no work on the request path); the
daemon's collector already exports calls, errors and latency quantiles by method.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from catalytic.plugins.monitor.history import Sample

PROCESS_GAUGES = {
    "process.cpu_percent": ("cpu_percent", "Daemon CPU use, percent of one core"),
    "process.rss_bytes": ("rss_bytes", "Resident set size"),
    "process.rss_peak_bytes": ("rss_peak_bytes", "Largest RSS seen since start"),
    "process.rss_avg_bytes": ("rss_avg_bytes", "Average RSS over the samples since start"),
    "process.threads": ("threads", "Threads of the daemon process"),
    "process.open_files": ("open_files", "Regular files open"),
    "process.open_fds": ("open_fds", "File descriptors open"),
    "process.net_connections": ("net_connections", "Sockets of the daemon (Unix and TCP)"),
    "process.io_read_bytes_per_s": ("io_read_bytes_per_second", "Bytes read per second"),
    "process.io_write_bytes_per_s": ("io_write_bytes_per_second", "Bytes written per second"),
    "process.io_read_ops_per_s": ("io_read_ops_per_second", "Read calls per second"),
    "process.io_write_ops_per_s": ("io_write_ops_per_second", "Write calls per second"),
}

GOVERNOR_GAUGES = {
    "governor.budget": ("governor_budget_bytes", "daemon.memory_budget in bytes"),
    "governor.soft_limit": ("governor_soft_limit_bytes", "RSS above which plugins shrink"),
    "governor.refusing_heavy_calls": ("governor_refusing_heavy_calls",
                                      "1 while heavy calls get -32002 (RSS above budget)"),
}
GOVERNOR_COUNTERS = {
    "governor.shrinks": ("governor_shrinks", "Times the governor asked plugins to shrink"),
    "governor.freed_bytes": ("governor_freed_bytes", "Bytes plugins reported freed"),
}


class MonitorCollector(Collector):
    def __init__(self, latest: Callable[[], Sample | None],
                 spans: Callable[[], dict[str, list[float]]],
                 counters: Callable[[], dict[str, Any]]) -> None:
        self.latest = latest
        self.spans = spans
        self.counters = counters

    def describe(self) -> Iterator[Any]:
        return iter(())

    def collect(self) -> Iterator[Any]:
        sample = self.latest()
        values = sample[1] if sample else {}
        for metric, (name, doc) in PROCESS_GAUGES.items():
            if metric in values:
                yield GaugeMetricFamily(f"catalytic_monitor_{name}", doc, value=values[metric])
        for metric, (name, doc) in GOVERNOR_GAUGES.items():
            if metric in values:
                yield GaugeMetricFamily(f"catalytic_monitor_{name}", doc, value=values[metric])
        for metric, (name, doc) in GOVERNOR_COUNTERS.items():
            if metric in values:
                yield CounterMetricFamily(f"catalytic_monitor_{name}", doc,
                                          value=values[metric])
        lag = GaugeMetricFamily("catalytic_monitor_loop_lag_seconds",
                                "How late a scheduled callback ran, over the last interval",
                                labels=["stat"])
        for stat in ("max", "mean"):
            if f"loop.lag_{stat}_ms" in values:
                lag.add_metric([stat], values[f"loop.lag_{stat}_ms"] / 1000.0)
        yield lag
        cores = GaugeMetricFamily("catalytic_monitor_host_cpu_percent",
                                  "Host CPU use per core", labels=["core"])
        maxlat = GaugeMetricFamily("catalytic_monitor_request_latency_max_seconds",
                                   "Largest latency seen by method", labels=["method"])
        rate = GaugeMetricFamily("catalytic_monitor_request_rate",
                                 "Calls per second by method over the last interval",
                                 labels=["method"])
        plugin = GaugeMetricFamily("catalytic_monitor_plugin_stat",
                                   "Numeric figures of each plugin's stats()",
                                   labels=["plugin", "stat"])
        for name, v in values.items():
            if name.startswith("host.cpu_core_"):
                cores.add_metric([name[len("host.cpu_core_"):-len("_percent")]], v)
            elif name.startswith("method."):
                method, _, fig = name[len("method."):].rpartition(".")
                if fig == "max_ms":
                    maxlat.add_metric([method], v / 1000.0)
                elif fig == "rate_per_s":
                    rate.add_metric([method], v)
            elif name.startswith("plugin."):
                pname, _, stat = name[len("plugin."):].partition(".")
                plugin.add_metric([pname, stat], v)
        yield cores
        yield maxlat
        yield rate
        yield plugin
        spans = GaugeMetricFamily("catalytic_monitor_span_seconds",
                                  "Client span durations (recent window)",
                                  labels=["span", "stat"])
        for name, ms in self.spans().items():
            if ms:
                span = name[len("span."):-len(".ms")]
                spans.add_metric([span, "last"], ms[-1] / 1000.0)
                spans.add_metric([span, "max"], max(ms) / 1000.0)
        yield spans
        counters = self.counters()
        yield CounterMetricFamily("catalytic_monitor_samples", "Samples taken",
                                  value=counters.get("samples", 0))
        yield CounterMetricFamily("catalytic_monitor_lag_problems",
                                  "Samples whose loop lag was above monitor.lag_warn_ms",
                                  value=counters.get("lag_problems", 0))
