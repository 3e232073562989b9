"""The `Reporter` a job receives, whatever backend runs it: progress at most every 50 ms
(and always the last step), and `JobCancelled` from `report` once the caller gave up.
Backends say how progress leaves the worker and how a cancellation is seen there.

Imported inside worker processes (the local pool's and Dask's): standard library and the
plugin contract only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from catalytic.plugins.base import JobCancelled, ProgressFn, _current_job

INTERVAL_S = 0.05


class JobReporter:
    def __init__(self, job: Any) -> None:
        self.job = job
        self._last = 0.0

    def cancelled(self) -> bool:
        raise NotImplementedError

    def emit(self, done: float, total: float | None, message: str) -> None:
        """Send one progress step towards the daemon."""
        raise NotImplementedError

    def report(self, done: float, total: float | None = None, message: str = "") -> None:
        if self.cancelled():
            raise JobCancelled(f"job {self.job} cancelled")
        now = time.monotonic()
        if now - self._last >= INTERVAL_S or (total and done >= total):
            self._last = now
            self.emit(done, total, message)


def run_with(reporter: Callable[[Any], JobReporter], fn: Callable[..., Any], job: Any,
             with_report: bool, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Call the job's function, giving it `report=` when it asked for progress; every job
    finds its Reporter through `current_job()` either way."""
    own = reporter(job)
    if with_report:
        kwargs = dict(kwargs, report=own)
    token = _current_job.set(own)
    try:
        return fn(*args, **kwargs)
    finally:
        _current_job.reset(token)


class MapProgress:
    """One `map`'s progress on the daemon side: finished jobs count 1, running ones the
    fraction they last reported; each change goes to the call's progress callback."""

    def __init__(self, total: int, sink: ProgressFn | None) -> None:
        self.total = total
        self.sink = sink
        self.parts = [0.0] * total
        self.done = 0.0

    def _set(self, index: int, part: float, message: str) -> None:
        part = min(1.0, max(self.parts[index], part))
        self.done += part - self.parts[index]
        self.parts[index] = part
        if self.sink is not None:
            done = round(self.done, 6)
            self.sink(int(done) if done.is_integer() else done, self.total, message)

    def job(self, index: int, name: str) -> ProgressFn:
        """The progress callback of job `index` (its own steps, as a fraction of one)."""
        def step(done: float, total: float | None, message: str) -> None:
            if total:
                text = f"{name}: {message}" if name and message else (name or message)
                self._set(index, min(0.999, done / total), text)
        return step

    def finished(self, index: int, name: str) -> None:
        self._set(index, 1.0, name)
