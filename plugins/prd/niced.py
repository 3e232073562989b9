"""Run pool jobs so that they do not take the CPU from the daemon's event loop.

The pool's workers and the daemon share the machine's cores. Two measures, both
measured with `bench/loop_lag.py` (a 10,000-task decomposition, p99 of
`system.ping` on another connection):

- `own_scheduling_group`: with autogroup scheduling (Linux's default) the CPU is
  shared between sessions first, so workers in the daemon's session spend the
  daemon's share and the loop waits behind other sessions' work at each wake-up
  (p99 15-20 ms at load 5 on 2 cores). A worker that starts a session of its own
  is charged to its own group: p99 5-8 ms, and the call no slower.
- `run_niced`: the job runs in a thread of the worker whose nice value is raised
  (per thread on Linux), for when every process shares one group (a systemd
  unit's cgroup); the worker's own priority is left as it was (lowering it back
  needs privileges), and the thread ends with the job.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
NICE = 10
"""Added to the job thread's nice value."""


_own_group = False


def own_scheduling_group(nice: int = 0) -> None:
    """Once per pool worker (never in the daemon: it is a no-op in a process that was not
    started by multiprocessing): a session, and so a scheduler autogroup, of its own
    (`nice` > 0 also lowers that group's priority: measured, it made a decomposition
    2-3x slower on a busy machine for little gain, so it is not used). The workers
    already ignore terminal signals and die with the daemon (`daemon/executor.py`)."""
    global _own_group
    if _own_group or multiprocessing.parent_process() is None:
        return
    _own_group = True
    try:
        os.setsid()
    except OSError:
        return  # already a session leader
    if nice:
        try:
            with open("/proc/self/autogroup", "w") as f:
                f.write(str(nice))
        except OSError:
            pass


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
