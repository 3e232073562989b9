"""prd's heavy verbs leave `system.ping` answering on another connection.

A decomposition computed in the daemon's thread (a document below
`prd.parallel_min_sections`) and one whose sections go to the process pool, then
the read verbs (a whole page of tasks, next, graph, every status) on a larger
document. The bound is test_loop_lag.py's generous one; the full-size figures
are bench/loop_lag.py's (`--only prd,prd-read`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import loop_lag_scenarios as sc
import pytest
from test_loop_lag import check, daemon_with

MakeDaemon = Callable[..., Any]


@pytest.mark.parametrize("tasks", [2000, 6000], ids=["in-thread", "pooled"])
def test_prd_decompose_keeps_loop_free(make_daemon: MakeDaemon, tasks: int) -> None:
    d = daemon_with(make_daemon, "prd")
    with d.client(timeout=300) as c:
        check(sc.run(d.socket, "prd.decompose", sc.prd_decompose(c, tasks=tasks)))


def test_prd_read_verbs_keep_loop_free(make_daemon: MakeDaemon) -> None:
    d = daemon_with(make_daemon, "prd")
    with d.client(timeout=300) as c:
        check(sc.run(d.socket, "prd.tasks+next+graph+status", sc.prd_queries(c, tasks=20_000)))
