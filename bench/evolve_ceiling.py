"""How close autotune's pick comes to the best the cost model allows on the held-out part.

    .venv/bin/python bench/evolve_ceiling.py 2 6      # synthetic workload seeds

For each workload seed: run the benchmark's autotune (bench/evolve.py, section 6), then
sweep the memory-tier share (0.20-0.34 of the budget) and the policy *on the held-out
part itself*, the other knobs as chosen. The best of that sweep is an oracle's score, an
upper bound for any choice that differs only in those two knobs; nothing here feeds back
into tuning.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import evolve as ev

from catalytic.plugins.evolve.autotune.metrics import Reference
from catalytic.plugins.evolve.autotune.model import Costs
from catalytic.plugins.evolve.autotune.policies import POLICIES
from catalytic.plugins.evolve.autotune.tuner import evaluate, knobs_of, plan
from catalytic.plugins.evolve.autotune.workload import synthetic


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("seeds", type=int, nargs="+", help="synthetic workload seeds")
    args = ap.parse_args()
    for seed in args.seeds:
        picked = ev.autotune(False, seed)
        calls = synthetic(20_000, seed=seed)
        p = plan(len(calls), 0.3)
        costs = Costs(cores=2, memory_budget=256 << 20)
        held = Reference.of(calls, costs, p.cut)
        sweep = []
        for share in np.arange(0.20, 0.345, 0.01):
            for policy in POLICIES:
                knobs = knobs_of({**picked["knobs"], "memory_fraction": float(share),
                                  "policy": policy})
                score = evaluate(calls, held, costs, knobs, None, p.cut)[0]
                sweep.append((score, float(share), policy))
        best = max(sweep)
        print(f"seed {seed}: tuned {picked['heldout']:.4f}; held-out oracle over tier share "
              f"and policy {best[0]:.4f} (share {best[1]:.2f}, {best[2]}); "
              f"gap {best[0] - picked['heldout']:+.4f}")


if __name__ == "__main__":
    main()
