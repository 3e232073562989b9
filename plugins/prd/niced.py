"""Run a pool job at a lower CPU priority than the daemon's event loop.

The pool's workers and the daemon share the machine's cores: a decomposition
that keeps every worker busy would otherwise have the loop wait a whole
scheduler slice (about 10 ms) each time it wakes for a `system.ping`. The job
runs in a thread of the worker whose nice value is raised (Linux: per thread),
so the loop wins every wake-up; the worker's own priority is left as it was
(lowering it back is not allowed without privileges), and the thread ends
with the job.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
NICE = 10
"""Added to the job thread's nice value."""


def run_niced(fn: Callable[..., T], *args: Any, nice: int = NICE) -> T:
    """`fn(*args)` in a thread `nice` steps nicer; its result or its exception."""
    box: dict[str, Any] = {}

    def body() -> None:
        try:
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + nice)
        except (OSError, AttributeError):
            pass  # not Linux, or not allowed: run at the worker's priority
        try:
            box["value"] = fn(*args)
        except BaseException as exc:  # handed to the caller
            box["error"] = exc

    thread = threading.Thread(target=body, name="prd-niced", daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]
