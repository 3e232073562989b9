"""Executor jobs for the sweep tests (module-level, so the pool can pickle them)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from catalytic.plugins.base import JobCancelled
from catalytic.plugins.workspace.jobs import pairs_job

FAIL = ("lru", 13)
"""The pair whose job fails (after a short delay) in `failing_pairs_job`."""


def failing_pairs_job(item: tuple[list[tuple[str, int]], bool], keys: Any, trace: str | None,
                      fmt: str, limit: int | None, prefetch: bool, *, marks: str,
                      report: Any = None) -> dict[str, Any]:
    """`pairs_job`, slowed to many reported steps per job and leaving marker files
    (started / cancelled / completed); the job holding `FAIL` raises instead."""
    pairs, _ = item
    name = "+".join(f"{p}-{c}" for p, c in pairs)
    if FAIL in pairs:
        time.sleep(0.3)
        raise ValueError(f"job {name} failed on purpose")
    (Path(marks) / f"{name}.started").touch()
    try:
        for i in range(300):
            time.sleep(0.02)
            report.report(i, 300, "step")
    except JobCancelled:
        (Path(marks) / f"{name}.cancelled").touch()
        raise
    (Path(marks) / f"{name}.completed").touch()
    return pairs_job(item, keys, trace, fmt, limit, prefetch, report)
