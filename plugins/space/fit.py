"""Least-squares fits y = a·f(x) + c of measured peaks to candidate curves, with R².

`log log k` is taken as log2(2b + 1) = log2 m, the bits of the interpolation order,
which is Θ(log b) (b = log k) and, unlike log2 b, is defined at b = 1.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def loglog_k(b: float) -> float:
    return math.log2(2 * b + 1)


CHAIN_CANDIDATES: dict[str, Callable[[float], float]] = {
    "sqrt n": math.sqrt,
    "n": float,
    "log n": math.log2,
    "log n · log log n": lambda n: math.log2(n) * math.log2(max(math.log2(n), 1.0)),
}

TREE_CANDIDATES: dict[str, Callable[[float, float], float]] = {
    "h · log k": lambda h, b: h * b,
    "(h + log k) · log log k": lambda h, b: (h + b) * loglog_k(b),
}
TWO_TERM = "h · log log k + log k · log log k"


def linear_fit(columns: Sequence[Sequence[float]], ys: Sequence[float]) -> dict[str, Any]:
    """Fit y = Σ a_i·column_i + c; returns coefficients, c and R²."""
    y = np.asarray(ys, dtype=float)
    design = np.column_stack([np.asarray(c, dtype=float) for c in columns] + [np.ones(len(y))])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    pred = design @ coef
    ss_tot = float(((y - y.mean()) ** 2).sum())
    ss_res = float(((y - pred) ** 2).sum())
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0
    return {"a": [float(v) for v in coef[:-1]], "c": float(coef[-1]), "r2": r2}


def loglog_slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Slope of log y against log x (1 for linear growth, 0.5 for √x)."""
    lx = np.log(np.asarray(xs, dtype=float))
    ly = np.log(np.asarray(ys, dtype=float))
    return float(np.polyfit(lx, ly, 1)[0])


def fit_chain(ns: Sequence[int], ys: Sequence[float]) -> dict[str, Any]:
    """Every chain candidate's fit, the winner (highest R²) and the log–log slope."""
    fits = {name: linear_fit([[f(n) for n in ns]], ys) for name, f in CHAIN_CANDIDATES.items()}
    winner = max(fits, key=lambda k: fits[k]["r2"])
    return {"fits": fits, "winner": winner, "loglog_slope": loglog_slope(ns, ys)}


def fit_tree(points: Sequence[tuple[int, int]], ys: Sequence[float]) -> dict[str, Any]:
    """Every tree candidate's fit over (h, b) points, the two-term form, and the winner."""
    fits = {name: linear_fit([[f(h, b) for h, b in points]], ys)
            for name, f in TREE_CANDIDATES.items()}
    winner = max(fits, key=lambda k: fits[k]["r2"])  # among one-term forms only
    fits[TWO_TERM] = linear_fit([[h * loglog_k(b) for h, b in points],
                                 [b * loglog_k(b) for h, b in points]], ys)
    slope = loglog_slope([h for h, _ in points], ys) if len({h for h, _ in points}) > 1 else 0.0
    return {"fits": fits, "winner": winner, "loglog_slope_vs_h": slope}


def predict_chain(name: str, fit: dict[str, Any], n: float) -> float:
    return fit["a"][0] * CHAIN_CANDIDATES[name](n) + fit["c"]


def predict_tree(name: str, fit: dict[str, Any], h: float, b: float) -> float:
    if name == TWO_TERM:
        return (fit["a"][0] * h * loglog_k(b) + fit["a"][1] * b * loglog_k(b) + fit["c"])
    return fit["a"][0] * TREE_CANDIDATES[name](h, b) + fit["c"]
