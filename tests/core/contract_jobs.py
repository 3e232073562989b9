"""Executor jobs for the contract tests: module-level (picklable), leaving marker files
so a test can tell which jobs started, finished or saw their cancellation."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from catalytic.plugins.base import JobCancelled, Reporter, current_job


def mark(folder: str, name: str, what: str) -> None:
    (Path(folder) / f"{name}.{what}").touch()


def marks(folder: Path, what: str) -> set[str]:
    return {p.name.rsplit(".", 1)[0] for p in folder.glob(f"*.{what}")}


def add(item: int, offset: int, *, scale: int = 1) -> int:
    return (item + offset) * scale


def stepper(item: Any, folder: str, steps: int = 8, pause: float = 0.07,
            report: Reporter | None = None) -> Any:
    """`steps` steps of `pause` s, reporting each; marks started/cancelled/completed.
    An item ("fail", delay) raises ValueError after `delay` seconds instead."""
    name = str(item)
    if isinstance(item, list | tuple) and item[0] == "fail":
        time.sleep(item[1])
        raise ValueError(f"job {name} failed on purpose")
    mark(folder, name, "started")
    try:
        for i in range(steps):
            time.sleep(pause)
            if report is not None:
                report.report(i + 1, steps, f"step {i + 1}")
    except JobCancelled:
        mark(folder, name, "cancelled")
        raise
    mark(folder, name, "completed")
    return item


def sleeper(item: Any, folder: str, seconds: float) -> Any:
    """A job that never reports: marks started, then completed."""
    mark(folder, str(item), "started")
    time.sleep(seconds)
    mark(folder, str(item), "completed")
    return item


def quiet(item: Any, folder: str, seconds: float) -> Any:
    """A job submitted without progress that still notices its cancellation."""
    mark(folder, str(item), "started")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if current_job().cancelled():
            mark(folder, str(item), "cancelled")
            return None
        time.sleep(0.02)
    mark(folder, str(item), "completed")
    return item
