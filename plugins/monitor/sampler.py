"""Process figures from psutil: CPU (overall and per core), RSS, I/O rates, files, threads.

`ProcessSampler.sample()` is a plain call (no asyncio) that returns flat metric names;
rates are differences against the previous call, so the first sample has no rates.
"""

from __future__ import annotations

import time
from typing import Any

import psutil

from catalytic.plugins.monitor.flatten import key


class ProcessSampler:
    """Samples one process (the daemon by default); keeps peak and running-average RSS."""

    def __init__(self, pid: int | None = None) -> None:
        self.proc = psutil.Process(pid)
        self.proc.cpu_percent(None)
        psutil.cpu_percent(None, percpu=True)
        self._io: tuple[float, Any] | None = None
        self.peak_rss = 0
        self._rss_sum = 0.0
        self._rss_n = 0

    def sample(self, now: float | None = None) -> dict[str, float]:
        now = time.monotonic() if now is None else now
        out: dict[str, float] = {}
        with self.proc.oneshot():
            rss = self.proc.memory_info().rss
            out[key("process.cpu_percent")] = self.proc.cpu_percent(None)
            out[key("process.threads")] = float(self.proc.num_threads())
            out[key("process.open_fds")] = float(self.proc.num_fds())
            io = self._io_counters()
        try:
            out[key("process.open_files")] = float(len(self.proc.open_files()))
        except (psutil.AccessDenied, psutil.NoSuchProcess):
            pass
        try:
            out[key("process.net_connections")] = float(len(self.proc.net_connections("all")))
        except (psutil.AccessDenied, psutil.NoSuchProcess, AttributeError):
            pass
        for i, pct in enumerate(psutil.cpu_percent(None, percpu=True)):
            out[key(f"host.cpu_core_{i}_percent")] = float(pct)
        self.peak_rss = max(self.peak_rss, rss)
        self._rss_sum += rss
        self._rss_n += 1
        out[key("process.rss_bytes")] = float(rss)
        out[key("process.rss_peak_bytes")] = float(self.peak_rss)
        out[key("process.rss_avg_bytes")] = self._rss_sum / self._rss_n
        if io is not None:
            if self._io is not None and now > self._io[0]:
                dt = now - self._io[0]
                prev = self._io[1]
                out[key("process.io_read_bytes_per_s")] = (
                    max(0, io.read_bytes - prev.read_bytes) / dt)
                out[key("process.io_write_bytes_per_s")] = (
                    max(0, io.write_bytes - prev.write_bytes) / dt)
                out[key("process.io_read_ops_per_s")] = max(0, io.read_count - prev.read_count) / dt
                out[key("process.io_write_ops_per_s")] = (
                    max(0, io.write_count - prev.write_count) / dt)
            self._io = (now, io)
        return out

    def _io_counters(self) -> Any:
        try:
            return self.proc.io_counters()
        except (psutil.AccessDenied, AttributeError, NotImplementedError):
            return None
