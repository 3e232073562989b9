"""`catalytic test [PATH] [-n N] [-- pytest args]`: run a suite on the daemon's workers.

Shows a progress bar while running, then the failures with their short
tracebacks, the slowest tests and the schedule's figures; exits as pytest does.
"""

from __future__ import annotations

import argparse
import os
from collections import Counter
from pathlib import Path
from typing import Any

from catalytic.client.commands import CliContext


def _options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-n", "--workers", type=int, default=None, help="worker processes")
    p.add_argument("--python", default=None,
                   help="the project's interpreter (default: PATH/.venv/bin/python)")
    p.add_argument("--junitxml", default=None, help="write JUnit XML here")
    p.add_argument("--plan", action="store_true", help="show the schedule, do not run")
    p.add_argument("--affected", dest="select", action="store_const", const="affected",
                   default=None, help="run only the tests an edit since they last ran can "
                   "affect (plus new, unrecorded and last-failed tests)")
    p.add_argument("--affected-first", dest="select", action="store_const",
                   const="affected-first", help="run those first, then the rest")
    p.add_argument("--forget", action="store_true", help="drop the remembered history")
    p.add_argument("--slowest", type=int, default=5, help="how many slowest tests to list")
    p.add_argument("--shards", choices=("local", "dask"), default=None,
                   help="dask: static shards on the daemon's Dask cluster (daemon.executor)")
    p.add_argument("--worker-root", default=None,
                   help="with --shards dask: the project's path on the cluster's workers")


def register(sub: Any) -> None:
    p = sub.add_parser("test", help="run a project's tests in parallel, scheduled from history")
    _options(p)
    p.add_argument("rest", nargs=argparse.REMAINDER, metavar="[PATH] [-- pytest args]")
    p.set_defaults(func=run_test)


def split_rest(args: argparse.Namespace) -> tuple[Path, list[str]]:
    """PATH (default: here) and the pytest arguments; our options may also follow PATH."""
    rest = list(args.rest)
    after: list[str] = []
    if "--" in rest:
        i = rest.index("--")
        rest, after = rest[:i], rest[i + 1:]
    again = argparse.ArgumentParser(add_help=False)
    _options(again)
    again.add_argument("path", nargs="?")
    ns, unknown = again.parse_known_args(rest)
    for key in ("workers", "python", "junitxml", "shards", "worker_root", "select"):
        if getattr(ns, key) is not None:
            setattr(args, key, getattr(ns, key))
    args.plan = args.plan or ns.plan
    args.forget = args.forget or ns.forget
    if ns.slowest != 5:
        args.slowest = ns.slowest
    root = Path(ns.path) if ns.path else Path.cwd()
    return Path(os.path.abspath(root)), unknown + after


def run_test(args: argparse.Namespace, cli: CliContext) -> int:
    root, pytest_args = split_rest(args)
    if args.forget:
        result = cli.call("testrun.forget", {"root": str(root)})
        cli.emit(result, lambda con: con.print(f"forgot {result['forgotten']} tests of {root}"))
        return 0
    if args.plan:
        plan = cli.call("testrun.plan", {"root": str(root), "workers": args.workers,
                                         "python": args.python, "args": pytest_args})
        cli.emit(plan, lambda con: show_plan(con, plan))
        return 0
    params: dict[str, Any] = {"root": str(root), "workers": args.workers,
                              "python": args.python, "args": pytest_args,
                              "junitxml": args.junitxml}
    if args.shards:
        params["shards"] = args.shards
    if args.select:
        params["select"] = args.select
    if args.worker_root:
        params["worker_root"] = os.path.abspath(args.worker_root)
    try:
        result = cli.call("testrun.run", params)
    except KeyboardInterrupt:
        # Closing the connection cancels the run; the daemon stops the workers.
        cli.close()
        cli.err.print("catalytic: interrupted; the run was cancelled")
        show_last(cli, root)
        return 2
    cli.emit(result, lambda con: show_run(con, result, args.slowest))
    return int(result["exit_status"])


def show_plan(con: Any, plan: dict[str, Any]) -> None:
    con.print(f"{plan['tests']} tests ({plan['known']} with history) in {plan['units']} units "
              f"on {plan['workers']} workers")
    con.print(f"expected makespan {plan['expected_makespan_s']:.2f} s · lower bound "
              f"{plan['lower_bound_s']:.2f} s · serial {plan['serial_estimate_s']:.2f} s")
    for i, ids in enumerate(plan["order"]):
        head = ", ".join(ids[:3]) + (f", … (+{len(ids) - 3})" if len(ids) > 3 else "")
        con.print(f"  worker {i}: {head}")


def _tail(text: str, lines: int = 15, width: int = 200) -> str:
    """The end of a traceback, each line cut to `width` (captured output can be huge)."""
    tb = text.split("\n----- Captured", 1)[0]
    return "\n".join(line[:width] for line in tb.rstrip().splitlines()[-lines:])


def show_run(con: Any, r: dict[str, Any], slowest: int) -> None:
    failing = [x for x in r["results"] if x["outcome"] in ("failed", "error")]
    for x in failing:
        con.rule(f"[red]{x['nodeid']}[/red] ({x['outcome']})")
        con.print(_tail(str(x.get("longrepr") or x.get("message", ""))), markup=False,
                  highlight=False)
    if slowest and r["results"]:
        con.rule("slowest tests")
        for x in sorted(r["results"], key=lambda x: -x["duration_s"])[:slowest]:
            con.print(f"{x['duration_s']:8.3f}s  {x['nodeid']}", markup=False)
    if r["order_dependent"]:
        con.print("order-dependent (passed when re-run in collection order): "
                  + ", ".join(r["order_dependent"]), markup=False)
    if failing:
        con.rule("short test summary")
        for x in failing:
            label = "FAILED" if x["outcome"] == "failed" else "ERROR"
            first = (str(x.get("message") or "").splitlines() or [""])[0]
            con.print(f"{label} {x['nodeid']} - {first[:200]}", markup=False)
    if r.get("select", "all") != "all":
        con.print(selection_line(r), markup=False, highlight=False)
    con.print(summary_line(r))


def selection_line(r: dict[str, Any]) -> str:
    """How many tests the selection ran and why (the commonest reasons)."""
    reasons = Counter(str(x.get("reason", "")).split(" (")[0] for x in r["results"])
    why = ", ".join(f"{n} {k}" for k, n in reasons.most_common(4))
    first = (f"; first failure after {r['first_failure_s']:.2f}s"
             if r.get("first_failure_s") is not None else "")
    return (f"{r['select']}: ran {r['selected']} of {r['selected'] + r['deselected']} tests"
            + (f" ({why})" if why else " (nothing affected)") + first)


def summary_line(r: dict[str, Any]) -> str:
    parts = [f"{r[k]} {k.rstrip('s') if k == 'errors' and r[k] == 1 else k}"
             for k in ("failed", "passed", "skipped", "xfailed", "xpassed", "errors") if r[k]]
    if r["exit_status"] == 5 or (r["tests"] == 0 and r.get("select", "all") != "all"):
        parts = ["no tests ran", *parts]
    where = (f"{r['shards']} Dask shards" if r.get("shards_mode") == "dask"
             else f"{r['workers']} workers")
    return (", ".join(parts) + f" in {r['makespan_s']:.2f}s on {where} "
            f"(lower bound {r['lower_bound_s']:.2f}s, efficiency {r['efficiency']:.0%}, "
            f"serial {r['serial_estimate_s']:.2f}s"
            + (", warm workers)" if r.get("warm_workers") else ")"))


def show_last(cli: CliContext, root: Path) -> None:
    try:
        runs = cli.call("testrun.history", {"root": str(root)})["runs"]
    except Exception:
        return
    if runs and runs[0].get("cancelled"):
        last = runs[0]
        cli.err.print(f"before cancelling: {last['tests']} tests ran, {last['passed']} passed, "
                      f"{last['failed']} failed, {last['errors']} errors")
