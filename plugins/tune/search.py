"""Successive halving over the candidates: every candidate is measured on the first
quarter of the workload, the best third again on the first half, the best third of
those on the whole of it. The plan is pure; `plugin.py` runs each rung's measurements.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .knobs import Candidate

RUNGS = (0.25, 0.5, 1.0)
"""Share of the workload each rung replays."""
KEEP = 3
"""Each rung keeps the best 1/KEEP of its candidates (at least one)."""


@dataclass(frozen=True)
class Rung:
    share: float
    candidates: list[Candidate]


def first_rung_size(budget: int) -> int:
    """How many candidates the first rung can take so that every rung fits in `budget`
    evaluations."""
    n = budget
    while n > 1 and evaluations(n) > budget:
        n -= 1
    return max(1, n)


def evaluations(first: int) -> int:
    """Evaluations that a first rung of `first` candidates leads to in all."""
    total, n = 0, first
    for _ in RUNGS:
        total += n
        n = max(1, n // KEEP)
    return total


def first_rung(grid: list[Candidate], budget: int, must: Candidate, seed: int) -> list[Candidate]:
    """The first rung: the whole grid when the budget allows it, else a sample of it
    (`must`, the current configuration, always included)."""
    size = first_rung_size(budget)
    others = [c for c in grid if c != must]
    if len(others) > size - 1:
        others = random.Random(seed).sample(others, size - 1)
    chosen = [must, *others]
    return sorted(set(chosen))


def survivors(scored: dict[Candidate, float]) -> list[Candidate]:
    """The best third of a rung, best first (ties: the smaller memory tier first)."""
    order = sorted(scored, key=lambda c: (-scored[c], c.memory_capacity, c))
    return order[:max(1, len(order) // KEEP)]
