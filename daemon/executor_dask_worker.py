"""What runs inside Dask worker processes for the `dask` executor backend.

Kept apart from the daemon side so a worker imports only this (and `distributed`):
the job wrapper, the `Reporter` jobs receive, and the cancellation flags that
`Client.run(mark_cancelled, job)` sets in every worker process.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from distributed import get_worker

from catalytic.plugins.base import JobCancelled

TOPIC = "catalytic-progress"
"""The structured-event topic progress travels on (worker → scheduler → daemon)."""
CANCELLED_KEPT = 10_000

_cancelled: dict[str, None] = {}
"""Job keys cancelled by a daemon, in this worker process (insertion-ordered, bounded)."""


def mark_cancelled(job: str) -> bool:
    """Run on every worker by `Client.run`: later `report()` calls of `job` raise."""
    _cancelled[job] = None
    while len(_cancelled) > CANCELLED_KEPT:
        del _cancelled[next(iter(_cancelled))]
    return True


class DaskReporter:
    """The `Reporter` a job receives on a Dask worker; picklable, keyed by job key."""

    def __init__(self, job: str) -> None:
        self.job = job
        self._last = 0.0

    def cancelled(self) -> bool:
        return self.job in _cancelled

    def report(self, done: float, total: float | None = None, message: str = "") -> None:
        if self.cancelled():
            raise JobCancelled(f"job {self.job} cancelled")
        now = time.monotonic()
        if now - self._last >= 0.05 or (total and done >= total):
            self._last = now
            get_worker().log_event(TOPIC, {"job": self.job, "done": done, "total": total,
                                           "message": message})


def run_job(fn: Callable[..., Any], job: str, with_report: bool, args: tuple[Any, ...],
             kwargs: dict[str, Any]) -> Any:
    if with_report:
        kwargs = dict(kwargs, report=DaskReporter(job))
    return fn(*args, **kwargs)
