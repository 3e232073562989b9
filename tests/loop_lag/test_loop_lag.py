"""Nothing slow on the loop: each plugin's heaviest verb leaves `system.ping` answering.

One case per plugin drives its heaviest verb at a modest size against a real
daemon while another process pings every 2 ms (see loop_lag_scenarios.py), and
asserts a generous bound on the ping p99 above the same daemon's idle p99. The figures at full size are
bench/loop_lag.py's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import loop_lag_scenarios as sc
import pytest

from catalytic.client import Client

MakeDaemon = Callable[..., Any]
Factory = Callable[[Client, Path], sc.Scenario]

BOUND_MS = 50.0
"""Generous: the target is 10 ms (bench/loop_lag.py); a shared, noisy machine gets headroom,
above the p99 the same daemon shows idle (the machine's own floor, measured first)."""

CASES: dict[str, tuple[str, str, Factory]] = {
    # id: (plugin, verb measured, scenario)
    "evolve": ("evolve", "evolve.tell", lambda c, _: sc.evolve_ask_tell(c, population=2000)),
    "workspace": ("workspace", "workspace.get", lambda c, _: sc.workspace_gets(c, keys=1500)),
    "prd-in-thread": ("prd", "prd.decompose", lambda c, _: sc.prd_decompose(c, tasks=2000)),
    "prd-pooled": ("prd", "prd.decompose", lambda c, _: sc.prd_decompose(c, tasks=6000)),
    "prd-read": ("prd", "prd.tasks+next+graph+status",
                 lambda c, _: sc.prd_queries(c, tasks=20_000)),
    "testrun": ("testrun", "testrun.run", lambda c, tmp: sc.testrun_suite(c, tmp / "suite")),
    "space": ("space", "space.checkpoint+validate", lambda c, _: sc.space_heavy(c, n=100_000)),
    "monitor": ("monitor", "monitor.report", lambda c, _: sc.monitor_reports(c, calls=300)),
    "request": ("workspace", "large request (workspace.put)",
                lambda c, _: sc.large_requests(c, mib=32, times=4)),
}
"""prd decomposes in its own thread below `prd.parallel_min_sections`, in the pool above."""


def check(lag: sc.Lag, idle: sc.Lag) -> None:
    print(f"{lag.line()}  (idle p99 {idle.p99:.2f} ms)")
    assert len(lag.latencies) >= 10, lag.line()
    assert lag.p99 <= BOUND_MS + idle.p99, f"{lag.line()}; idle p99 {idle.p99:.2f} ms"


@pytest.mark.parametrize("case", list(CASES))
def test_heaviest_verb_keeps_loop_free(make_daemon: MakeDaemon, tmp_path: Path,
                                       case: str) -> None:
    plugin, verb, factory = CASES[case]
    extra = {"testrun": {"allowed_roots": [str(tmp_path)]}} if plugin == "testrun" else {}
    d = make_daemon({"daemon": {"plugins": [plugin], "workers": 2}, **extra})
    idle = sc.measure(d.socket, "(idle)", lambda: time.sleep(1.0))
    with d.client(timeout=300) as c:
        check(sc.run(d.socket, verb, factory(c, tmp_path)), idle)
