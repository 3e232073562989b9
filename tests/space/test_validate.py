"""Fits recover known curves; a small sweep measures, fits and draws."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest

from catalytic.plugins.space import fit
from catalytic.plugins.space.validate import PRESETS, crossover, r2_table, run_validation


def test_fit_recovers_exact_curves() -> None:
    ns = [64 * 2**i for i in range(10)]
    r = fit.fit_chain(ns, [3 * math.sqrt(n) + 7 for n in ns])
    assert r["winner"] == "sqrt n"
    assert r["fits"]["sqrt n"]["r2"] == pytest.approx(1.0)
    assert r["fits"]["sqrt n"]["a"][0] == pytest.approx(3.0)
    assert fit.fit_chain(ns, [3 * math.sqrt(n) for n in ns])["loglog_slope"] == pytest.approx(0.5)
    r = fit.fit_chain(ns, [5 * math.log2(n) for n in ns])
    assert r["winner"] == "log n"
    pts = [(h, b) for h in range(2, 9) for b in range(2, 7)]
    t = fit.fit_tree(pts, [4 * h * b + 1 for h, b in pts])
    assert t["winner"] == "h · log k" and t["fits"]["h · log k"]["r2"] == pytest.approx(1.0)


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[float, float | None, str]] = []

    def report(self, done: float, total: float | None = None, message: str = "") -> None:
        self.calls.append((done, total, message))


def small_spec() -> dict[str, object]:
    spec = dict(PRESETS["quick"])
    spec.update(sizes=[64, 256, 1024, 4096], classical_h=[2, 4, 6], classical_b=[2, 4],
                cm_b=[1, 2], cm_max_work=200_000, williams=[[1, 1, 2, 2]])
    return spec


def test_small_validation_run() -> None:
    rec = Recorder()
    result = run_validation(small_spec(), report=rec)
    summary = result["summary"]
    assert summary["measured_equals_formula"] is True
    assert summary["williams_correct"] is True
    assert summary["chain_winners"]["store-all"] == "n"
    assert summary["chain_winners"]["sqrt"] == "sqrt n"
    assert rec.calls[-1][0] == rec.calls[-1][1] == len(rec.calls)
    root = ET.fromstring(result["svg"])
    assert root.tag.endswith("svg") and len(root) > 20
    assert "COMPUTED" in result["svg"]
    assert all(len(row) == 4 for row in r2_table(result))


def test_cancellation_stops_the_sweep() -> None:
    class Cancel(Exception):
        pass

    class Stopper:
        def report(self, done: float, total: float | None = None, message: str = "") -> None:
            if done >= 3:
                raise Cancel

    with pytest.raises(Cancel):
        run_validation(small_spec(), report=Stopper())


def test_crossover_is_where_cook_mertz_wins() -> None:
    from catalytic.plugins.space.classical import classical_formula
    from catalytic.plugins.space.cookmertz import cm_formula

    c = crossover(max_b=64)
    b, h = c["best"]["b"], c["best"]["h"]
    assert cm_formula(h, b) < classical_formula(h, b)
    assert cm_formula(h - 1, b) >= classical_formula(h - 1, b)
    assert c["crossover_L"] == f"2^{h}"
