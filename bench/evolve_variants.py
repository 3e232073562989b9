"""NSGA-II variants on seeds the benchmark does not use: how the defaults were chosen.

    .venv/bin/python bench/evolve_variants.py               # seeds 101-120, about 3 min
    .venv/bin/python bench/evolve_variants.py --seeds 5

Mean (± sd) hypervolume ratio on ZDT1-3 at 10,000 and 25,000 evaluations, population
100, for pymoo's defaults (one pass of crowding, polynomial mutation eta 20), each of the
two departures alone, both (catalytic's default), and a few variants that lost: Deb's
rank-then-crowding tournament and other SBX settings; then the mutation change on ZDT6 and
on DTLZ2 with NSGA-III. bench/evolve.py compares the default with pymoo on seeds 1-5.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from evolve import hv_ratio

from catalytic.plugins.evolve import algorithms
from catalytic.plugins.evolve.operators import Variation
from catalytic.plugins.evolve.problems import get_problem
from catalytic.plugins.evolve.sorting import random_pairs, ranks

PYMOO = Variation(pm_eta=20.0)


def rank_tournament(F: np.ndarray, CV: np.ndarray, crowd: np.ndarray, n_winners: int,
                    rng: np.random.Generator) -> np.ndarray:
    """Deb et al. 2002's crowded comparison: lower front rank, then larger crowding."""
    rank = ranks(F, CV)
    a, b = random_pairs(len(F), n_winners, rng).T
    coin = np.where(rng.random(n_winners) < 0.5, a, b)
    by_crowd = np.where(crowd[a] > crowd[b], a, np.where(crowd[b] > crowd[a], b, coin))
    return np.where(rank[a] < rank[b], a, np.where(rank[b] < rank[a], b, by_crowd))


VARIANTS: dict[str, dict[str, Any]] = {
    "pymoo's defaults (PM eta 20, one-pass crowding)": {"variation": PYMOO, "prune": False},
    "PM eta 20, pruning": {"variation": PYMOO, "prune": True},
    "PM eta 10, one-pass crowding": {"variation": Variation(), "prune": False},
    "PM eta 10, pruning (the default)": {"variation": Variation(), "prune": True},
    "rank-then-crowding tournament (else pymoo's)": {"variation": PYMOO, "prune": False,
                                                      "tournament": rank_tournament},
    "SBX eta 10 (else pymoo's)": {"variation": Variation(pm_eta=20.0, sbx_eta=10.0),
                                  "prune": False},
    "SBX eta 30 (else pymoo's)": {"variation": Variation(pm_eta=20.0, sbx_eta=30.0),
                                  "prune": False},
    "SBX per-variable probability 1 (else pymoo's)": {
        "variation": Variation(pm_eta=20.0, sbx_prob_var=1.0), "prune": False},
}


def run(problem: str, seed: int, variation: Variation, prune: bool,
        tournament: Callable[..., np.ndarray] | None = None, kind: str = "nsga2"
        ) -> tuple[float, float]:
    """Hypervolume ratios at 10,000 and 25,000 evaluations."""
    p = get_problem(problem)
    default = algorithms.binary_tournament
    if tournament is not None:
        algorithms.binary_tournament = tournament
    try:
        a = algorithms.Algorithm(p.genome(), p.n_obj, 100, seed=seed, kind=kind,
                                 variation=variation, prune=prune)
        at10 = 0.0
        while a.evaluations < 25_000:
            X = a.ask()
            a.tell(X, p.evaluate(X))
            if a.evaluations == 10_000:
                at10 = hv_ratio(a.F[a.front()], problem)
        return at10, hv_ratio(a.F[a.front()], problem)
    finally:
        algorithms.binary_tournament = default


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20, help="seeds 101, 102, ... (default 20)")
    args = ap.parse_args()
    seeds = range(101, 101 + args.seeds)
    print(f"hypervolume ratio, mean ± sd over seeds {seeds.start}-{seeds.stop - 1} "
          "(10k / 25k evaluations)\n")
    print("| variant | ZDT1 | ZDT2 | ZDT3 |\n|---|---|---|---|")
    for name, kw in VARIANTS.items():
        cells = []
        for problem in ("zdt1", "zdt2", "zdt3"):
            runs = [run(problem, s, **kw) for s in seeds]
            m10, m25 = (statistics.mean(r[i] for r in runs) for i in (0, 1))
            sd10 = statistics.stdev(r[0] for r in runs) if len(runs) > 1 else 0.0
            cells.append(f"{m10:.4f} ± {sd10:.4f} / {m25:.4f}")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    print("\nThe mutation change elsewhere (10k / 25k):\n")
    print("| problem | PM eta 20 | PM eta 10 |\n|---|---|---|")
    for problem, kind in (("zdt6", "nsga2"), ("dtlz2", "nsga3")):
        cells = []
        for eta in (20.0, 10.0):
            runs = [run(problem, s, Variation(pm_eta=eta), True, kind=kind) for s in seeds]
            cells.append(" / ".join(f"{statistics.mean(r[i] for r in runs):.4f}"
                                    for i in (0, 1)))
        print(f"| {problem} ({kind}) | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
