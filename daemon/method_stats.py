"""Per-method counters: calls, errors by code and a window of recent latencies.

One `MethodStats` per method, kept by the dispatcher, read by `system.stats`,
the monitor and `/metrics`, so every figure has one source.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

LATENCY_WINDOW = 2048


@dataclass(slots=True)
class MethodStats:
    """Calls, errors by code and a window of recent latencies for one method."""

    calls: int = 0
    errors: dict[int, int] = field(default_factory=dict)
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=LATENCY_WINDOW))
    total_s: float = 0.0
    max_s: float = 0.0
    _summary: dict[str, Any] | None = None
    _summary_calls: int = -1

    def record(self, seconds: float, error_code: int | None) -> None:
        self.calls += 1
        self.latencies.append(seconds)
        self.total_s += seconds
        if seconds > self.max_s:
            self.max_s = seconds
        if error_code is not None:
            self.errors[error_code] = self.errors.get(error_code, 0) + 1

    def sample(self, seconds: float, weight: int) -> None:
        """A timed sample standing for `weight` calls already counted in `calls`."""
        self.latencies.append(seconds)
        self.total_s += seconds * weight
        if seconds > self.max_s:
            self.max_s = seconds

    def summary(self) -> dict[str, Any]:
        """Counts and latency percentiles (nearest rank); cached until the next call."""
        if self._summary is not None and self._summary_calls == self.calls:
            return self._summary
        n = len(self.latencies)
        ranks = [min(n - 1, max(0, math.ceil(q * n) - 1)) for q in (0.50, 0.95, 0.99)]
        if n:
            window = np.fromiter(self.latencies, dtype=np.float64, count=n)
            window.partition(ranks)
            p50, p95, p99 = (float(window[r]) * 1e6 for r in ranks)
        else:
            p50 = p95 = p99 = 0.0
        self._summary = {
            "calls": self.calls, "errors": {str(k): v for k, v in self.errors.items()},
            "p50_us": p50, "p95_us": p95, "p99_us": p99, "max_us": self.max_s * 1e6,
            "mean_us": (self.total_s / self.calls * 1e6) if self.calls else 0.0}
        self._summary_calls = self.calls
        return self._summary
