"""`catalytic space ...`: measured-space algorithms and their validation.

    catalytic space validate [--preset full] [--plot out.svg]
    catalytic space report [--plot out.svg]
    catalytic space tree-eval --h 4 --b 2 [--algorithm classical]
    catalytic space checkpoint --n 100000 --strategy sqrt
    catalytic space williams --time-blocks 3
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from catalytic.client.commands import EXIT_OK, CliContext


def register(sub: Any) -> None:
    p = sub.add_parser("space", help="square-root-space and tree-evaluation algorithms")
    verbs = p.add_subparsers(dest="space_command", required=True, metavar="VERB")

    v = verbs.add_parser("validate", help="sweep sizes, fit curves, draw the figure")
    v.add_argument("--preset", default="quick", choices=("quick", "full"))
    v.add_argument("--sizes", type=int, nargs="+", default=None, help="chain lengths")
    v.add_argument("--step", default=None, choices=("hash", "lcg", "rule110"))
    v.add_argument("--plot", type=Path, default=None, help="write the SVG figure here")
    v.set_defaults(func=run_validate)

    r = verbs.add_parser("report", help="the last validation")
    r.add_argument("--plot", type=Path, default=None, help="write the SVG figure here")
    r.set_defaults(func=run_report)

    t = verbs.add_parser("tree-eval", help="evaluate a random Tree Evaluation instance")
    t.add_argument("--h", type=int, default=4, help="tree height")
    t.add_argument("--b", type=int, default=2, help="bits per value (k = 2^b)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--algorithm", default="cook-mertz", choices=("cook-mertz", "classical"))
    t.set_defaults(func=run_tree_eval)

    c = verbs.add_parser("checkpoint", help="reverse a chain of n steps under a schedule")
    c.add_argument("--n", type=int, required=True)
    c.add_argument("--strategy", default="sqrt",
                   choices=("store-all", "sqrt", "bisection", "revolve"))
    c.add_argument("--slots", type=int, default=None, help="revolve slots (default ⌈log2 n⌉)")
    c.add_argument("--step", default="hash", choices=("hash", "lcg", "rule110"))
    c.set_defaults(func=run_checkpoint)

    w = verbs.add_parser("williams", help="Williams' simulation at toy size")
    w.add_argument("--qbits", type=int, default=1)
    w.add_argument("--cells", type=int, default=1)
    w.add_argument("--blocks", type=int, default=2)
    w.add_argument("--time-blocks", type=int, default=3)
    w.add_argument("--seed", type=int, default=0)
    w.set_defaults(func=run_williams)


def _print_validation(con: Any, res: dict[str, Any], plot: Path | None) -> None:
    from rich.table import Table

    table = Table(title="fits y = a·f(x) + c of measured peak bits (* = best one-term form)")
    for col in ("series", "candidate f", "R²", ""):
        table.add_column(col)
    for row in res.get("r2_table", []):
        table.add_row(*row)
    con.print(table)
    s = res["summary"]
    con.print(f"sqrt R² {s['sqrt_r2']:.4f} (vs n {s['sqrt_r2_vs_n']:.4f}, vs log n "
              f"{s['sqrt_r2_vs_log_n']:.4f}); tree classical R² {s['tree_classical_r2']:.4f}; "
              f"Cook–Mertz R² {s['tree_cm_r2_single']:.4f} one-term, "
              f"{s['tree_cm_r2_two_term']:.4f} two-term")
    con.print(f"measured = formula on every point: {s['measured_equals_formula']}; "
              f"Williams toy runs correct: {s['williams_correct']}")
    con.print(f"crossover (computed from the formulas): Cook–Mertz holds fewer bits than the "
              f"classical evaluator from L = {s['crossover_L']} leaves (b = {s['crossover_b']})")
    if plot is not None:
        con.print(f"figure written to {plot}")


def _write_plot(res: dict[str, Any], plot: Path | None) -> None:
    if plot is not None:
        plot.write_text(res["svg"], encoding="utf-8")


def run_validate(args: argparse.Namespace, cli: CliContext) -> int:
    params: dict[str, Any] = {"preset": args.preset}
    if args.sizes:
        params["sizes"] = args.sizes
    if args.step:
        params["step"] = args.step
    res = cli.call("space.validate", params)
    _write_plot(res, args.plot)
    shown = {k: v for k, v in res.items() if k != "svg"}
    cli.emit(shown, lambda con: _print_validation(con, res, args.plot))
    return EXIT_OK


def run_report(args: argparse.Namespace, cli: CliContext) -> int:
    res = cli.call("space.report")
    _write_plot(res, args.plot)
    cli.emit({k: v for k, v in res.items() if k != "svg"},
             lambda con: _print_validation(con, res, args.plot))
    return EXIT_OK


def run_tree_eval(args: argparse.Namespace, cli: CliContext) -> int:
    res = cli.call("space.tree_eval", {"h": args.h, "b": args.b, "seed": args.seed,
                                       "algorithm": args.algorithm})

    def human(con: Any) -> None:
        con.print(f"{res['algorithm']} on a random {res['instance']} instance h={res['h']} "
                  f"b={res['b']}: value {res['value']}"
                  + (f" (direct evaluation agrees: {res['correct']})" if "correct" in res else ""))
        con.print(f"measured peak {res['measured_bits']} bits = formula {res['formula_bits']} "
                  f"bits; by category {res['peak_by_category']}")
        if res["algorithm"] == "cook-mertz":
            con.print(f"GF({res['field_p']}), ω = {res['omega']} of order m = {res['m']}; "
                      f"registers restored: {res['registers_restored']}; "
                      f"{res['leaf_visits']} leaf visits, {res['extension_evals']} extension "
                      f"evaluations, {res['wall_s']:.3f} s")
        else:
            con.print(f"{res['leaf_visits']} leaf visits, {res['wall_s']:.3f} s")
    cli.emit(res, human)
    return EXIT_OK


def run_checkpoint(args: argparse.Namespace, cli: CliContext) -> int:
    params: dict[str, Any] = {"strategy": args.strategy, "n": args.n, "step": args.step}
    if args.slots is not None:
        params["slots"] = args.slots
    res = cli.call("space.checkpoint", params)

    def human(con: Any) -> None:
        slots = f" with {res['slots']} slots" if res.get("slots") else ""
        con.print(f"{res['strategy']}{slots}: reversed {res['n']} states of {res['step']} "
                  f"({res['state_bits']} bits each)")
        con.print(f"peak {res['peak_states']} states, {res['measured_bits']} bits "
                  f"(formula {res['formula_bits']}); {res['steps']} steps "
                  f"({res['steps'] / max(1, res['n']):.2f} per state)")
    cli.emit(res, human)
    return EXIT_OK


def run_williams(args: argparse.Namespace, cli: CliContext) -> int:
    res = cli.call("space.williams", {"qbits": args.qbits, "cells": args.cells,
                                      "blocks": args.blocks, "time_blocks": args.time_blocks,
                                      "seed": args.seed})

    def human(con: Any) -> None:
        con.print(f"{res['steps']} steps → Tree Evaluation h={res['h']} b={res['b']}: "
                  f"Cook–Mertz value {res['value']}, direct run {res['direct_value']}")
        con.print(f"measured {res['measured_bits']} bits (formula {res['formula_bits']}); "
                  f"classical tree evaluation {res['classical_bits']} bits; the direct run's "
                  f"tape {res['direct_tape_bits']} bits; {res['leaf_visits']} leaf visits")
    cli.emit(res, human)
    return EXIT_OK
