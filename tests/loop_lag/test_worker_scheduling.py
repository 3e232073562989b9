"""Pool workers yield the CPU to the daemon's loop: a session of their own, nice 10.

On a machine with few cores a CPU-bound pool job must not take the loop thread's
turn; a job reports where it runs, and the real daemon's workers are read from
the outside as well.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

import psutil

from catalytic.daemon.executor import WORKER_NICE, LocalExecutor

MakeDaemon = Callable[..., Any]


def where_am_i() -> tuple[int, int, int]:
    """(nice value, session id, pid) of the process running this job."""
    return os.nice(0), os.getsid(0), os.getpid()


async def test_a_pool_job_runs_niced_in_a_session_of_its_own() -> None:
    pool = LocalExecutor(2, logging.getLogger("test.executor"))
    try:
        nice, sid, pid = await pool.submit(where_am_i)
    finally:
        pool.shutdown()
    assert pid != os.getpid()
    assert nice >= WORKER_NICE >= 10
    assert sid == pid, "the worker leads a session of its own"
    assert sid != os.getsid(0)
    assert os.nice(0) < WORKER_NICE, "the daemon's own priority is left alone"


def test_the_daemons_workers_are_niced_and_the_daemon_is_not(
        make_daemon: MakeDaemon, example_plugin: str) -> None:
    d = make_daemon({"daemon": {"plugins": [example_plugin], "workers": 2}})
    with d.client(timeout=60) as c:
        assert c.call("example.spin", {"seconds": 0.2})["loops"] > 0
    daemon = psutil.Process(d.pid)
    workers = daemon.children()
    assert len(workers) >= 2, workers
    for w in workers:
        assert w.nice() >= WORKER_NICE, (w.pid, w.nice())
        assert os.getsid(w.pid) == w.pid != os.getsid(d.pid)
    assert daemon.nice() < WORKER_NICE
