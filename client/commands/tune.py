"""`catalytic tune WORKLOAD`: measure configurations on a recorded workload, print the
proposal's diff and how to install it (`catalytic config apply`).

    catalytic call system.record --params '{"action": "start", "name": "today"}'
    ... work ...
    catalytic call system.record --params '{"action": "stop"}'
    catalytic tune today [--budget N]
"""

from __future__ import annotations

import argparse
from typing import Any

from catalytic.client.commands import EXIT_OK, CliContext


def register(sub: Any) -> None:
    p = sub.add_parser("tune", help="tune the daemon's settings by replaying a recorded workload")
    p.add_argument("workload", help="a recording's name (system.record) or an absolute path "
                                    "under tune.workload_roots")
    p.add_argument("--budget", type=int, default=None,
                   help="most configurations measured (default: tune.max_evaluations)")
    p.add_argument("--memory-budget-mib", type=int, default=None,
                   help="budget peak memory is judged against (default: tune.memory_budget)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=run_tune)


def run_tune(args: argparse.Namespace, cli: CliContext) -> int:
    params: dict[str, Any] = {"workload": args.workload, "seed": args.seed}
    if args.budget is not None:
        params["budget"] = args.budget
    if args.memory_budget_mib:
        params["memory_budget"] = args.memory_budget_mib << 20
    res = cli.call("tune.run", params)

    def human(con: Any) -> None:
        cur, best = res["current"], res["best"]
        con.print(f"{res['evaluations']} configurations measured on {res['accesses']} cache "
                  f"accesses ({res['calls']} calls), memory budget "
                  f"{res['memory_budget'] >> 20} MiB", markup=False)
        con.print(f"score: running {cur['score']:.4f}, proposed {best['score']:.4f}",
                  markup=False)
        for m, v in best["metrics"].items():
            con.print(f"  {m:<14} {cur['metrics'][m]:.3f} -> {v:.3f}", markup=False)
        if res["changes"]:
            con.print(res["diff"], markup=False, highlight=False, end="")
            con.print(f"proposal written to {res['proposal']}; install it with: "
                      f"{res['apply']} (then reload the daemon)", markup=False)
        else:
            con.print("the running configuration is the best measured; nothing to change",
                      markup=False)
    cli.emit(res, human)
    return EXIT_OK
