"""Island model: migration between populations and the epoch function run in worker processes.

`run_epoch` is a pure, picklable, module-level function (state in, state out,
deterministic by the state's own random generator), so the same epochs can run
in the daemon's process pool or on any other executor.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np

from catalytic.plugins.evolve.algorithms import Algorithm
from catalytic.plugins.evolve.cmaes import CmaEs
from catalytic.plugins.evolve.problems import get_problem

Optimizer: TypeAlias = Algorithm | CmaEs


def neighbours(i: int, n: int, topology: str) -> list[int]:
    """Islands that send migrants to island i: its ring predecessor, or every other island."""
    if n <= 1:
        return []
    if topology == "ring":
        return [(i - 1) % n]
    return [j for j in range(n) if j != i]


def migrants_count(pop_size: int, rate: float) -> int:
    """How many of an island's members migrate (at least one when the rate is positive)."""
    return max(1, math.ceil(rate * pop_size - 1e-9)) if rate > 0 else 0


def immigrants(i: int, islands: Sequence[Optimizer], rate: float,
               topology: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The best members of island i's neighbours (split evenly among them for `full`)."""
    src = neighbours(i, len(islands), topology)
    if not src:
        dim = islands[i].genome.size
        return np.empty((0, dim)), np.empty((0, islands[i].n_obj)), np.empty(0)
    total = migrants_count(islands[i].pop_size, rate)
    per = [total // len(src) + (1 if k < total % len(src) else 0) for k in range(len(src))]
    parts = [islands[j].emigrants(k) for j, k in zip(src, per, strict=True) if k > 0]
    X = np.concatenate([p[0] for p in parts]) if parts else np.empty((0, islands[i].genome.size))
    F = np.concatenate([p[1] for p in parts]) if parts else np.empty((0, islands[i].n_obj))
    CV = np.concatenate([p[2] for p in parts]) if parts else np.empty(0)
    return X, F, CV


def migrate(islands: Sequence[Optimizer], rate: float, topology: str) -> int:
    """Synchronous migration after an epoch: every island takes its neighbours' best.

    All emigrants are chosen before anyone is replaced, so the result does not
    depend on island order. Returns the number of individuals moved.
    """
    incoming = [immigrants(i, islands, rate, topology) for i in range(len(islands))]
    moved = 0
    for island, (X, F, CV) in zip(islands, incoming, strict=True):
        island.replace_worst(X, F, CV)
        moved += len(X)
    return moved


@dataclass(frozen=True)
class Evaluator:
    """How an epoch evaluates rows: a built-in problem, optionally with a per-row cost.

    `sleep_s` models an objective that waits (an external process); `spin_s`
    one that holds the CPU. Both exist for the island benchmarks.
    """

    problem: str
    sleep_s: float = 0.0
    spin_s: float = 0.0

    def __call__(self, X: np.ndarray) -> np.ndarray:
        F = get_problem(self.problem).evaluate(X)
        if self.sleep_s:
            time.sleep(self.sleep_s * len(X))
        if self.spin_s:
            end = time.perf_counter() + self.spin_s * len(X)
            while time.perf_counter() < end:
                pass
        return F


def run_epoch(island: Optimizer, evaluator: Evaluator, generations: int,
              share: int | None = None, report: Any = None) -> Optimizer:
    """Evolve one island for `generations` generations; returns the evolved island.

    Stops early once the island has made `share` more evaluations (None: no limit),
    so one `share` serves every island of an `executor.map`. With `report` (the
    executor's Reporter) it reports progress and stops when the call is cancelled
    (the Reporter raises).
    """
    cap = None if share is None else island.evaluations + share
    for g in range(generations):
        if cap is not None and island.evaluations >= cap:
            break
        X = island.ask()
        island.tell(X, evaluator(X))
        if report is not None:
            report.report(g + 1, generations, f"generation {island.generation}")
    return island


async def evolve_islands(executor: Any, islands: Sequence[Optimizer], evaluator: Evaluator,
                         generations: int, share: int | None = None) -> list[Optimizer]:
    """One epoch of every island, one job each on `executor` (the plugin contract's
    `map`): all islands come back, or the first failure is raised and every sibling job
    is cancelled (each reports per generation, so a running one stops at its next)."""
    out: list[Optimizer] = await executor.map(run_epoch, islands,
                                              args=(evaluator, generations, share),
                                              report=True)
    return out
