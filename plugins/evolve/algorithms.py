"""Generational genetic algorithms driven by ask/tell: NSGA-II, NSGA-III and a single-objective GA.

All three share the mating machinery (tournament, type-respecting variation,
duplicate elimination) and differ in survival and tournament rule. An
`Algorithm` holds only numpy arrays and a `numpy.random.Generator`, so it
pickles (checkpoints, island epochs in worker processes) and is deterministic
for a given seed and sequence of calls.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from catalytic.plugins.evolve import nsga3
from catalytic.plugins.evolve.genome import Genome
from catalytic.plugins.evolve.operators import Variation, unique_rows, vary
from catalytic.plugins.evolve.sorting import (
    binary_tournament,
    crowding_distance,
    fitness_tournament,
    non_dominated_sort,
    prune_by_crowding,
    random_tournament,
)

KINDS = ("nsga2", "nsga3", "ga")


def failure_fill(F: np.ndarray, CV: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows with NaN/inf objectives become failures: infinite violation, finite placeholders."""
    F = np.array(F, dtype=float, copy=True)
    CV = np.array(CV, dtype=float, copy=True)
    bad = ~np.isfinite(F).all(axis=1) | ~np.isfinite(CV)
    if bad.any():
        F[bad] = 0.0
        CV[bad] = np.inf
    return F, CV


class Algorithm:
    """One evolving population. `ask()` returns rows to evaluate; `tell()` hands back results."""

    prune = True
    """NSGA-II: prune the split front one member at a time (False: one pass of crowding,
    as pymoo's default). A class default, so checkpoints from before it load unchanged."""

    def __init__(self, genome: Genome, n_obj: int, pop_size: int, seed: int | None = None, *,
                 kind: str = "nsga2", variation: Variation | None = None,
                 rng: np.random.Generator | None = None, prune: bool = True) -> None:
        if kind not in KINDS:
            raise ValueError(f"algorithm: unknown {kind!r}; allowed: {', '.join(KINDS)}")
        if n_obj < 1:
            raise ValueError("objectives: at least one objective is needed")
        if kind == "ga" and n_obj != 1:
            raise ValueError("algorithm: 'ga' is single-objective; use nsga2 or nsga3")
        if pop_size < 4 or pop_size % 2:
            raise ValueError(f"population: must be an even number ≥ 4, got {pop_size}")
        self.genome = genome
        self.n_obj = n_obj
        self.pop_size = pop_size
        self.kind = kind
        self.prune = prune
        self.variation = variation or Variation()
        self.rng = rng if rng is not None else np.random.default_rng(seed)
        self.X = np.empty((0, genome.size))
        self.F = np.empty((0, n_obj))
        self.CV = np.empty(0)
        self.crowd = np.empty(0)
        self.generation = 0
        self.evaluations = 0
        self.ref: nsga3.ReferenceState | None = None
        if kind == "nsga3":
            self.ref = nsga3.ReferenceState(nsga3.reference_directions(n_obj, pop_size))

    # -- mating ---------------------------------------------------------------------------

    def _parents(self, n_pairs: int) -> np.ndarray:
        if self.kind == "nsga2":
            return binary_tournament(self.F, self.CV, self.crowd, 2 * n_pairs, self.rng)
        if self.kind == "ga":
            return fitness_tournament(self.F[:, 0], self.CV, 2 * n_pairs, self.rng)
        return random_tournament(self.CV, 2 * n_pairs, self.rng)

    def offspring(self, n: int, max_tries: int = 100) -> np.ndarray:
        """`n` children of the current population, none duplicating a member or each other."""
        out = np.empty((0, self.genome.size))
        for _ in range(max_tries):
            need = n - len(out)
            pairs = -(-need // 2)
            idx = self._parents(pairs).reshape(pairs, 2)
            C = vary(self.genome, self.X[idx[:, 0]], self.X[idx[:, 1]], self.rng, self.variation)
            # pymoo orders children as all first children then all second ones; keep that
            C = C[unique_rows(C, np.concatenate([self.X, out]))]
            out = np.concatenate([out, C[:need]])
            if len(out) >= n:
                break
        if len(out) < n:  # the space is nearly exhausted: fill with random rows
            out = np.concatenate([out, self.genome.sample(n - len(out), self.rng)])
        return out

    def ask(self) -> np.ndarray:
        """The next batch: the initial random population, then `pop_size` offspring each time."""
        if len(self.X) == 0:
            X = self.genome.sample(self.pop_size, self.rng)
            keep = unique_rows(X)
            if not keep.all():
                X = np.concatenate([X[keep], self.genome.sample(int((~keep).sum()), self.rng)])
            return X
        return self.offspring(self.pop_size)

    # -- survival -------------------------------------------------------------------------

    def tell(self, X: np.ndarray, F: np.ndarray, CV: np.ndarray | None = None) -> None:
        """Merge evaluated rows into the population and keep the best `pop_size`."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        F = np.asarray(F, dtype=float).reshape(len(X), self.n_obj)
        CV = np.zeros(len(X)) if CV is None else np.asarray(CV, dtype=float).reshape(len(X))
        F, CV = failure_fill(F, CV)
        self.evaluations += len(X)
        allX = np.concatenate([self.X, X])
        allF = np.concatenate([self.F, F])
        allCV = np.concatenate([self.CV, CV])
        if len(self.X):
            self.generation += 1
        keep, crowd = self.survive(allF, allCV)
        self.X, self.F, self.CV, self.crowd = allX[keep], allF[keep], allCV[keep], crowd

    def survive(self, F: np.ndarray, CV: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Indices of the survivors and their crowding (or niche) score."""
        n = min(self.pop_size, len(F))
        if self.kind == "ga":
            order = np.lexsort((F[:, 0], CV))[:n]
            return order, np.zeros(n)
        if self.kind == "nsga3":
            assert self.ref is not None
            keep = nsga3.survive(F, CV, n, self.ref, self.rng)
            return keep, np.zeros(len(keep))
        return rank_and_crowding(F, CV, n, self.rng, self.prune)

    # -- results --------------------------------------------------------------------------

    def front(self) -> np.ndarray:
        """Indices of the feasible non-dominated members of the population."""
        feas = np.flatnonzero(self.CV <= 0)
        if len(feas) == 0:
            return feas
        return feas[non_dominated_sort(self.F[feas], n_stop=1)[0]]

    def best(self) -> int | None:
        """Index of the best member for one objective (smallest violation, then value)."""
        if len(self.X) == 0:
            return None
        return int(np.lexsort((self.F[:, 0], self.CV))[0])

    def replace_worst(self, X: np.ndarray, F: np.ndarray, CV: np.ndarray) -> None:
        """Put immigrants in place of the worst members (island migration), keeping the size."""
        if len(X) == 0 or len(self.X) == 0:
            return
        worst = worst_order(self.F, self.CV, self.rng)[: len(X)]
        keep = np.setdiff1d(np.arange(len(self.X)), worst)
        self.X = np.concatenate([self.X[keep], X])
        self.F = np.concatenate([self.F[keep], F])
        self.CV = np.concatenate([self.CV[keep], CV])
        if self.kind == "nsga2":
            order, crowd = rank_and_crowding(self.F, self.CV, len(self.F), self.rng)
            self.X, self.F, self.CV = self.X[order], self.F[order], self.CV[order]
            self.crowd = crowd
        else:
            self.crowd = np.zeros(len(self.X))

    def emigrants(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Copies of the `n` best members (by survival order) to send to another island."""
        if n <= 0 or len(self.X) == 0:
            return self.X[:0].copy(), self.F[:0].copy(), self.CV[:0].copy()
        best = worst_order(self.F, self.CV, self.rng)[::-1][:n]
        return self.X[best].copy(), self.F[best].copy(), self.CV[best].copy()

    def state(self) -> dict[str, Any]:
        """A compact summary for status reports."""
        return {"generation": self.generation, "evaluations": self.evaluations,
                "population": len(self.X)}


def rank_and_crowding(F: np.ndarray, CV: np.ndarray, n: int, rng: np.random.Generator,
                      prune: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """NSGA-II survival: whole fronts, then the split front pruned by crowding one member at
    a time (or, with `prune=False`, cut after one pass of crowding, ties at random)."""
    keep: list[np.ndarray] = []
    crowd: list[np.ndarray] = []
    taken = 0
    for front in non_dominated_sort(F, CV, n_stop=n):
        if taken + len(front) > n:
            if prune:
                order, cd = prune_by_crowding(F[front], n - taken, rng)
            else:
                cd = crowding_distance(F[front])
                shuffle = rng.permutation(len(front))
                order = shuffle[np.argsort(-cd[shuffle], kind="stable")][:n - taken]
                cd = cd[order]
            keep.append(front[order])
            crowd.append(cd)
            break
        keep.append(front)
        crowd.append(crowding_distance(F[front]))
        taken += len(front)
    return np.concatenate(keep), np.concatenate(crowd)


def worst_order(F: np.ndarray, CV: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Members from worst to best (reverse of survival order)."""
    order, _ = rank_and_crowding(F, CV, len(F), rng) if F.shape[1] > 1 else (
        np.lexsort((F[:, 0], CV)), None)
    return order[::-1]
