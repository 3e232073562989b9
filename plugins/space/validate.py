"""Sweeps that measure peaks, fit them to candidate curves, and draw the figure.

`run_validation(spec, report=...)` is a module-level function so the daemon can run it
in its process pool; `report.report(done, total, message)` raises when the call was
cancelled, which stops the sweep between runs.
"""

from __future__ import annotations

import time
from typing import Any, Protocol

from catalytic.client.svg_plot import Panel, Series, render

from . import fit as fitting
from .checkpoint import STRATEGIES, formula, reverse_chain
from .classical import classical_evaluate, classical_formula
from .cookmertz import cm_formula, cm_work, cook_mertz_evaluate
from .steps import builtin
from .tree import HashInstance
from .williams import computed_curve, simulate


class Reporter(Protocol):
    def report(self, done: float, total: float | None = None, message: str = "") -> None: ...


def log_sizes(lo: int, hi: int, count: int) -> list[int]:
    """`count` sizes spaced evenly on a log scale from lo to hi (distinct integers)."""
    out = sorted({round(lo * (hi / lo) ** (i / (count - 1))) for i in range(count)})
    return out


PRESETS: dict[str, dict[str, Any]] = {
    "quick": {"sizes": log_sizes(64, 16384, 12), "step": "lcg",
              "classical_h": [2, 4, 6, 8, 10], "classical_b": [2, 4, 6, 8],
              "cm_b": [1, 2, 3], "cm_max_work": 2_000_000,
              "williams": [[1, 1, 2, 3]], "seed": 1},
    "full": {"sizes": log_sizes(64, 262144, 24), "step": "hash",
             "classical_h": [2, 4, 6, 8, 10, 12, 14, 16], "classical_b": [2, 4, 6, 8, 10, 12],
             "cm_b": [1, 2, 3, 4, 5, 6], "cm_max_work": 50_000_000,
             "williams": [[1, 1, 2, 3], [1, 1, 2, 4], [1, 2, 2, 3], [2, 1, 3, 3]], "seed": 1},
}


def revolve_slots(n: int) -> int:
    """Slots for revolve in sweeps: ⌈log2 n⌉, so its peak grows like log n."""
    return max(1, (n - 1).bit_length())


def cm_grid(bs: list[int], max_work: int, max_h: int = 12) -> list[tuple[int, int]]:
    return [(h, b) for b in bs for h in range(1, max_h + 1) if cm_work(h, b) <= max_work]


def crossover(max_b: int = 128, max_h: int = 4096) -> dict[str, Any]:
    """Least h where the Cook–Mertz formula beats the classical one, for each b (computed)."""
    per_b = []
    for b in range(1, max_b + 1):
        for h in range(1, max_h + 1):
            if cm_formula(h, b) < classical_formula(h, b):
                per_b.append({"b": b, "h": h})
                break
    best = min(per_b, key=lambda r: r["h"]) if per_b else None
    return {"per_b": per_b, "best": best,
            "crossover_L": f"2^{best['h']}" if best else None,
            "note": "computed from the verified formulas: the least number of leaves L = 2^h "
                    "at which Cook–Mertz holds fewer bits than the classical evaluator"}


def sweep_items(spec: dict[str, Any]) -> list[list[Any]]:
    """Every point of a sweep, in result order: ["chain", strategy, n], ["classical", h, b],
    ["cook-mertz", h, b], ["williams", qbits, cells, blocks, time_blocks]."""
    items: list[list[Any]] = [["chain", s, int(n)] for s in STRATEGIES for n in spec["sizes"]]
    items += [["classical", h, b] for h in spec["classical_h"] for b in spec["classical_b"]]
    items += [["cook-mertz", h, b]
              for h, b in cm_grid([int(b) for b in spec["cm_b"]], int(spec["cm_max_work"]))]
    items += [["williams", *(int(v) for v in t)] for t in spec.get("williams", [])]
    return items


def item_label(item: list[Any]) -> str:
    """The progress message of one item (as the sequential sweep reports it)."""
    kind = item[0]
    if kind == "chain":
        return f"{item[1]} n={item[2]}"
    if kind == "williams":
        return f"williams toy {item[1:]}"
    return f"{kind} h={item[1]} b={item[2]}"


def item_work(item: list[Any]) -> float:
    """Rough cost of one item, so a fan-out can send the heaviest first."""
    kind = item[0]
    if kind == "chain":
        n = int(item[2])
        slots = revolve_slots(n) if item[1] == "revolve" else None
        return float(formula(item[1], n, 1, slots)["steps"])
    if kind == "classical":
        return float(2 ** int(item[1]))
    if kind == "cook-mertz":
        return float(cm_work(int(item[1]), int(item[2])))
    return float("inf")  # Williams toys: few and slow


def measure_item(spec: dict[str, Any], item: list[Any]) -> dict[str, Any]:
    """Measure one sweep point; a plain function so each item can be its own job."""
    seed = int(spec.get("seed", 1))
    kind = item[0]
    if kind == "chain":
        strategy, n = str(item[1]), int(item[2])
        slots = revolve_slots(n) if strategy == "revolve" else None
        t0 = time.perf_counter()
        point = reverse_chain(strategy, n, builtin(spec["step"]), slots=slots,
                              seed=seed).as_dict()
        point["wall_s"] = time.perf_counter() - t0
        return point
    if kind == "classical":
        cr = classical_evaluate(HashInstance(int(item[1]), int(item[2]), seed))
        return {k: v for k, v in cr.items() if k != "peak_by_category"}
    if kind == "cook-mertz":
        h, b = int(item[1]), int(item[2])
        inst = HashInstance(h, b, seed)
        cm = cook_mertz_evaluate(inst, seed=seed)
        ref = classical_evaluate(inst)["value"]
        if cm["value"] != ref:
            raise AssertionError(f"cook-mertz h={h} b={b}: {cm['value']} != classical {ref}")
        return {k: v for k, v in cm.items() if k != "peak_by_category"}
    if kind == "williams":
        qbits, cells, blocks, time_blocks = (int(v) for v in item[1:5])
        return simulate(qbits, cells, blocks, time_blocks, seed=seed)
    raise ValueError(f"unknown sweep item {item!r}")


def run_validation(spec: dict[str, Any], report: Reporter | None = None) -> dict[str, Any]:
    """Measure every sweep point, fit, compute the crossover, and render the SVG."""
    started = time.time()
    items = sweep_items(spec)
    measured = []
    for i, item in enumerate(items):
        measured.append(measure_item(spec, item))
        if report is not None:
            report.report(i + 1, len(items), item_label(item))
    return assemble(spec, items, measured, started)


def assemble(spec: dict[str, Any], items: list[list[Any]], measured: list[dict[str, Any]],
             started: float) -> dict[str, Any]:
    """Fit the measured points (in `sweep_items` order), add the crossover, draw the figure."""
    kinds = [item[0] for item in items]
    chain_points = [m for k, m in zip(kinds, measured, strict=True) if k == "chain"]
    classical_points = [m for k, m in zip(kinds, measured, strict=True) if k == "classical"]
    cm_points = [m for k, m in zip(kinds, measured, strict=True) if k == "cook-mertz"]
    williams_runs = [m for k, m in zip(kinds, measured, strict=True) if k == "williams"]
    chain_fits = {}
    for strategy in STRATEGIES:
        pts = [p for p in chain_points if p["strategy"] == strategy]
        chain_fits[strategy] = fitting.fit_chain([p["n"] for p in pts],
                                                 [p["measured_bits"] for p in pts])
    tree_fits = {
        "classical": fitting.fit_tree([(p["h"], p["b"]) for p in classical_points],
                                      [p["measured_bits"] for p in classical_points]),
        "cook-mertz": fitting.fit_tree([(p["h"], p["b"]) for p in cm_points],
                                       [p["measured_bits"] for p in cm_points]),
    }
    computed = computed_curve([2 ** e for e in range(8, 41, 2)])
    cross = crossover()

    sqrt_fit = chain_fits["sqrt"]["fits"]
    cm_fit = tree_fits["cook-mertz"]["fits"]
    summary = {
        "sqrt_r2": sqrt_fit["sqrt n"]["r2"],
        "sqrt_r2_vs_n": sqrt_fit["n"]["r2"], "sqrt_r2_vs_log_n": sqrt_fit["log n"]["r2"],
        "chain_winners": {s: chain_fits[s]["winner"] for s in STRATEGIES},
        "tree_classical_r2": tree_fits["classical"]["fits"]["h · log k"]["r2"],
        "tree_cm_r2_single": cm_fit["(h + log k) · log log k"]["r2"],
        "tree_cm_r2_two_term": cm_fit[fitting.TWO_TERM]["r2"],
        "tree_cm_r2": max(cm_fit["(h + log k) · log log k"]["r2"], cm_fit[fitting.TWO_TERM]["r2"]),
        "measured_equals_formula": all(p["measured_bits"] == p["formula_bits"]
                                       for p in chain_points + classical_points + cm_points),
        "williams_correct": all(r["correct"] for r in williams_runs),
        "crossover_L": cross["crossover_L"], "crossover_b": (cross["best"] or {}).get("b"),
    }
    result = {"spec": spec, "summary": summary,
              "chain": {"points": chain_points, "fits": chain_fits},
              "tree": {"classical": classical_points, "cook_mertz": cm_points, "fits": tree_fits},
              "williams": {"runs": williams_runs, "computed": computed},
              "crossover": cross, "elapsed_s": time.time() - started}
    result["svg"] = figure(result)
    return result


def r2_table(result: dict[str, Any]) -> list[list[str]]:
    """Rows (series, candidate, R², winner mark) for the CLI and the docs."""
    rows = []
    for strategy, f in result["chain"]["fits"].items():
        for name, v in f["fits"].items():
            rows.append([strategy, name, f"{v['r2']:.4f}", "*" if name == f["winner"] else ""])
    for algo, f in result["tree"]["fits"].items():
        for name, v in f["fits"].items():
            rows.append([algo, name, f"{v['r2']:.4f}", "*" if name == f["winner"] else ""])
    return rows


def figure(result: dict[str, Any]) -> str:
    """Four panels: chain peaks (log–log), classical and Cook–Mertz peaks vs h, Williams."""
    chain = Panel("Checkpointed reversal: measured peak", "n (states in the chain)",
                  "peak bits", log_x=True, log_y=True)
    for i, (strategy, f) in enumerate(result["chain"]["fits"].items()):
        pts = [p for p in result["chain"]["points"] if p["strategy"] == strategy]
        ns = [p["n"] for p in pts]
        chain.series.append(Series(f"{strategy} (fit: {f['winner']}, "
                                   f"R²={f['fits'][f['winner']]['r2']:.4f})",
                                   ns, [p["measured_bits"] for p in pts], "points", i))
        chain.series.append(Series("", ns, [max(1.0, fitting.predict_chain(
            f["winner"], f["fits"][f["winner"]], n)) for n in ns], "line", i))
    panels = [chain]
    for algo, key, name in (("classical", "classical", "h · log k"),
                            ("cook-mertz", "cook_mertz", "(h + log k) · log log k")):
        pts = result["tree"][key]
        fit = result["tree"]["fits"][algo]["fits"][name]
        panel = Panel(f"Tree Evaluation, {algo}", "h (tree height)", "peak bits")
        panel.series.append(Series(f"lines: fit {name}, R²={fit['r2']:.4f}", [], [], "line", 6))
        for i, b in enumerate(sorted({p["b"] for p in pts})):
            sel = sorted((p for p in pts if p["b"] == b), key=lambda p: p["h"])
            hs = [p["h"] for p in sel]
            panel.series.append(Series(f"b={b}", hs, [p["measured_bits"] for p in sel],
                                       "points", i))
            panel.series.append(Series("", hs, [fitting.predict_tree(name, fit, h, b)
                                                for h in hs], "line", i))
        panels.append(panel)
    comp = result["williams"]["computed"]
    will = Panel("Williams → Cook–Mertz (curve COMPUTED)", "t (steps)",
                 "bits", log_x=True, log_y=True)
    will.series.append(Series("our formula (computed, not measured)", [c["t"] for c in comp],
                              [c["bits"] for c in comp], "line", 0))
    will.series.append(Series("√(t log t) (Williams' bound, reference)", [c["t"] for c in comp],
                              [c["sqrt_t_log_t"] for c in comp], "dashed", 1))
    will.series.append(Series("t (direct simulation's tape)", [c["t"] for c in comp],
                              [float(c["t"]) for c in comp], "dashed", 2))
    runs = result["williams"]["runs"]
    if runs:
        will.series.append(Series("toy runs (measured)", [r["steps"] for r in runs],
                                  [r["measured_bits"] for r in runs], "points", 3))
    panels.append(will)
    return render(panels, 2, "catalytic space: measured peaks (points) and fitted curves (lines)")


def resolve_spec(preset: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """A preset with the caller's overrides (validated by the plugin)."""
    spec = dict(PRESETS[preset])
    spec.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return spec


def spec_work(spec: dict[str, Any]) -> int:
    """Rough work of a sweep (steps plus Cook–Mertz work) for the refusal check."""
    steps = 0
    for strategy in STRATEGIES:
        for n in spec["sizes"]:
            slots = revolve_slots(n) if strategy == "revolve" else None
            steps += formula(strategy, int(n), 1, slots)["steps"]
    cm = sum(cm_work(h, b) for h, b in cm_grid(spec["cm_b"], spec["cm_max_work"]))
    classical = sum(2 ** h for h in spec["classical_h"]) * len(spec["classical_b"])
    return steps + cm + classical
