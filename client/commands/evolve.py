"""`catalytic evolve ...`: run built-in problems, inspect studies.

    catalytic evolve run zdt1 --generations 250
    catalytic evolve status ID
    catalytic evolve pareto ID [--plot out.svg]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from catalytic.client.commands import EXIT_OK, CliContext


def register(sub: Any) -> None:
    p = sub.add_parser("evolve", help="multi-objective evolution studies")
    verbs = p.add_subparsers(dest="evolve_command", required=True, metavar="VERB")

    r = verbs.add_parser("run", help="evolve a built-in problem on the daemon")
    r.add_argument("problem", help="zdt1, zdt2, zdt3, zdt6, dtlz1, dtlz2, rastrigin, "
                                   "rosenbrock, sphere")
    r.add_argument("--generations", type=int, default=100)
    r.add_argument("--population", type=int, default=100)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--islands", type=int, default=None)
    r.add_argument("--algorithm", default="auto",
                   choices=("auto", "nsga2", "nsga3", "ga", "cmaes"))
    r.set_defaults(func=run_run)

    for verb, helptext, fn in (("status", "a study's progress", run_status),
                               ("best", "a study's best candidate", run_best),
                               ("delete", "delete a study", run_delete)):
        v = verbs.add_parser(verb, help=helptext)
        v.add_argument("study")
        v.set_defaults(func=fn)

    pa = verbs.add_parser("pareto", help="a study's non-dominated front")
    pa.add_argument("study")
    pa.add_argument("--plot", type=Path, default=None, help="write an SVG scatter plot here")
    pa.set_defaults(func=run_pareto)

    ls = verbs.add_parser("list", help="every study")
    ls.set_defaults(func=run_list)


def _fmt(v: Any) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def run_run(args: argparse.Namespace, cli: CliContext) -> int:
    params: dict[str, Any] = {"problem": args.problem, "generations": args.generations,
                              "population": args.population, "seed": args.seed,
                              "algorithm": args.algorithm}
    if args.islands:
        params["islands"] = args.islands
    res = cli.call("evolve.run", params)

    def human(con: Any) -> None:
        con.print(f"study {res['study']}: {args.problem}, {res['generation']} generations on "
                  f"{res['islands']} island(s), {res['evaluations']} evaluations")
        if res.get("hypervolume") is not None:
            con.print(f"hypervolume {res['hypervolume']:.6f} (reference 1.1 per objective), "
                      f"{len(res['pareto'])} points in the front")
        if res.get("best"):
            con.print(f"best value {[_fmt(v) for v in res['best']['values']]}")
    cli.emit(res, human)
    return EXIT_OK


def run_status(args: argparse.Namespace, cli: CliContext) -> int:
    st = cli.call("evolve.status", {"study": args.study})

    def human(con: Any) -> None:
        state = "done (" + st["reason"] + ")" if st["done"] else (
            "running" if st.get("running") else "open")
        con.print(f"study {st['study']} {st['name']} [{st['algorithm']}]: {state}")
        con.print(f"generation {st['generation']}, {st['evaluations']} evaluations, "
                  f"{st['outstanding']} outstanding, {st['failures']} failures, "
                  f"{len(st['islands'])} island(s)")
        if st["hypervolume"] is not None:
            con.print(f"hypervolume {st['hypervolume']:.6f} at {st['reference']}")
        if st["best"]:
            con.print(f"best {st['best']['values']} (score {st['best']['score']:.6g})")
    cli.emit(st, human)
    return EXIT_OK


def run_best(args: argparse.Namespace, cli: CliContext) -> int:
    cli.emit(cli.call("evolve.best", {"study": args.study}))
    return EXIT_OK


def run_delete(args: argparse.Namespace, cli: CliContext) -> int:
    res = cli.call("evolve.delete", {"study": args.study})
    cli.emit(res, lambda con: con.print(f"deleted {res['deleted']}"))
    return EXIT_OK


def run_list(args: argparse.Namespace, cli: CliContext) -> int:
    res = cli.call("evolve.list", {})

    def human(con: Any) -> None:
        from rich.table import Table

        t = Table("study", "name", "algorithm", "generation", "evaluations", "state")
        for s in res["studies"]:
            state = "done" if s["done"] else ("running" if s["running"] else "open")
            t.add_row(s["study"], s["name"], s["algorithm"], str(s["generation"]),
                      str(s["evaluations"]), state)
        con.print(t)
    cli.emit(res, human)
    return EXIT_OK


def svg_scatter(points: list[list[float]], names: list[str]) -> str:
    """The front's first two objectives as an SVG scatter (one objective: against 0)."""
    from catalytic.client.svg_plot import Panel, Series, render

    xs = [float(p[0]) for p in points]
    ys = [float(p[1]) if len(p) > 1 else 0.0 for p in points]
    panel = Panel("Pareto front", names[0] if names else "", names[1] if len(names) > 1 else "",
                  series=[Series("", xs, ys)])
    return render([panel], columns=1)


def run_pareto(args: argparse.Namespace, cli: CliContext) -> int:
    res = cli.call("evolve.pareto", {"study": args.study})
    if args.plot:
        args.plot.write_text(svg_scatter([p["values"] for p in res["front"]],
                                         res["objectives"]))

    def human(con: Any) -> None:
        from rich.table import Table

        t = Table(*res["objectives"])
        for p in res["front"]:
            t.add_row(*[_fmt(v) for v in p["values"]])
        con.print(t)
        con.print(f"{len(res['front'])} points; hypervolume {res['hypervolume']}")
        if args.plot:
            con.print(f"plot written to {args.plot}")
    cli.emit(res, human)
    return EXIT_OK
