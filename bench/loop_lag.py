"""Loop lag: `system.ping` p50/p99 on another connection while each plugin's heaviest verb runs.

For every plugin, a fresh daemon (that plugin only, 2 workers) is driven at the
largest parameters its limits accept (or the sizes of issue 14) while a separate
process pings every 2 ms on a fixed schedule; an idle daemon is measured the same
way first, side by side, as the floor. Scenarios are shared with tests/loop_lag.

    evolve.tell       ask/tell of three generations, population 4,000, 3 objectives
    workspace.get     3,000 distinct keys, put first (not measured), then got
    prd.decompose     a generated document of ~10,000 tasks
    prd.tasks+...     prd.tasks (100,000 a page), next, graph, status on ~100,000 tasks
    testrun.run       a small generated suite (40 tests)
    space.*           revolve checkpoint at space.max_n, then validate "quick"
    monitor.report    3,000 reports
    request           large frames: 8 workspace.put of a 48 MiB value

Ends with one line: `loop_lag: worst_ping_p99_ms=.. verb=..` (target ≤ 10 ms).

Usage: .venv/bin/python bench/loop_lag.py [--only evolve,workspace,prd,prd-read,request]
                                          [--population 4000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE / "loop_lag"))

import loop_lag_scenarios as sc  # noqa: E402

from catalytic.client import Client  # noqa: E402

from daemon_process import DaemonProcess  # noqa: E402

TARGET_MS = 10.0


def scenarios(args: argparse.Namespace, tmp: Path) -> dict[str, tuple[str, dict[str, Any],
                                                                     Callable[[Client], Any]]]:
    """plugin → (verb, extra config, scenario factory)."""
    return {
        "idle": ("(idle daemon)", {}, lambda c: ((lambda: None), lambda: time.sleep(1.0))),
        "evolve": ("evolve.tell", {}, lambda c: sc.evolve_ask_tell(c, args.population)),
        "workspace": ("workspace.get", {}, lambda c: sc.workspace_gets(c, args.keys)),
        "prd": ("prd.decompose", {}, lambda c: sc.prd_decompose(c, args.tasks)),
        "prd-read": ("prd.tasks+next+graph+status", {},
                     lambda c: sc.prd_queries(c, args.read_tasks)),
        "testrun": ("testrun.run", {"testrun": {"allowed_roots": [str(tmp)]}},
                    lambda c: sc.testrun_suite(c, tmp / "suite")),
        "space": ("space.checkpoint+validate", {},
                  lambda c: sc.space_heavy(c, args.space_n)),
        "monitor": ("monitor.report", {}, lambda c: sc.monitor_reports(c, args.reports)),
        "request": ("large request (workspace.put)", {},
                    lambda c: sc.large_requests(c, args.request_mib)),
    }


def one(plugin: str, verb: str, extra: dict[str, Any],
        factory: Callable[[Client], Any]) -> sc.Lag:
    plugins = ([] if plugin == "idle" else ["workspace"] if plugin == "request"
               else [plugin.split("-")[0]])  # prd-read: prd
    d = DaemonProcess({"daemon": {"plugins": plugins, "workers": 2, "log_level": "warning"},
                       **extra})
    try:
        d.start()
        with d.client(timeout=900) as c:
            return sc.run(d.socket, verb, factory(c))
    finally:
        d.cleanup()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="", help="Comma-separated plugins (default: all).")
    ap.add_argument("--population", type=int, default=4000)
    ap.add_argument("--keys", type=int, default=3000)
    ap.add_argument("--tasks", type=int, default=10_000)
    ap.add_argument("--read-tasks", type=int, default=100_000,
                    help="Size of the document the prd read verbs are measured on.")
    ap.add_argument("--space-n", type=int, default=2_000_000, help="space.max_n by default.")
    ap.add_argument("--reports", type=int, default=3000)
    ap.add_argument("--request-mib", type=int, default=48,
                    help="Size of the large requests (below limits.max_message_bytes).")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="lag") as tmp:
        table = scenarios(args, Path(tmp))
        wanted = ["idle", *(args.only.split(",") if args.only else
                            [k for k in table if k != "idle"])]
        results: list[sc.Lag] = []
        for plugin in wanted:
            verb, extra, factory = table[plugin]
            lag = one(plugin, verb, extra, factory)
            print(lag.line(), flush=True)
            results.append(lag)
    idle, loaded = results[0], results[1:] or results
    worst = max(loaded, key=lambda lag: lag.p99)
    print(f"\nidle floor: p50 {idle.p50:.2f} ms, p99 {idle.p99:.2f} ms; "
          f"worst under load: {worst.verb} p99 {worst.p99:.2f} ms "
          f"({worst.p99 / max(idle.p99, 1e-3):.1f}x the idle p99); target ≤ {TARGET_MS:g} ms")
    for lag in loaded:
        if lag.p99 > TARGET_MS:
            print(f"  over target: {lag.verb} p99 {lag.p99:.1f} ms, worst ping {lag.worst:.1f} ms")
    print(f"loop_lag: worst_ping_p99_ms={worst.p99:.2f} verb={worst.verb}")


if __name__ == "__main__":
    main()
