"""What runs inside Dask worker processes for the `dask` executor backend.

Kept apart from the daemon side so a worker imports only this, `job_reporter` and
`distributed`: the job wrapper, the `Reporter` jobs receive, and the cancellation flags
that `Client.run(mark_cancelled, job)` sets in every worker process.
"""

from __future__ import annotations

import functools

from distributed import get_worker

from catalytic.daemon.job_reporter import JobReporter, run_with

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


class DaskReporter(JobReporter):
    """The `Reporter` a job receives on a Dask worker: keyed by job key, cancelled through
    `mark_cancelled`, progress as a structured event. Picklable."""

    def cancelled(self) -> bool:
        return self.job in _cancelled

    def emit(self, done: float, total: float | None, message: str) -> None:
        get_worker().log_event(TOPIC, {"job": self.job, "done": done, "total": total,
                                       "message": message})


run_job = functools.partial(run_with, DaskReporter)
