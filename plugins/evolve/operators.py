"""Variation operators that respect gene kinds, vectorized over a whole batch.

Real and integer columns get simulated binary crossover (SBX) and polynomial
mutation (PM), written after Deb & Agrawal (1995) and Deb & Goyal (1996) with
pymoo's defaults (SBX eta 15, mating probability 0.9, per-variable probability
0.5; PM per-individual probability 0.9, per-variable 1/n) except PM's eta: 10,
not 20 (docs/evolve.md shows why);
integer columns are rounded afterwards. Categorical and boolean columns get
uniform crossover and random-reset / bit-flip mutation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from catalytic.plugins.evolve.genome import Genome


@dataclass(frozen=True)
class Variation:
    """Operator parameters (pymoo's NSGA-II defaults, but PM eta 10)."""

    sbx_eta: float = 15.0
    sbx_prob: float = 0.9
    sbx_prob_var: float = 0.5
    pm_eta: float = 10.0
    pm_prob: float = 0.9
    pm_prob_var: float | None = None
    """Per-gene mutation probability; None means min(0.5, 1 / number of genes)."""


def _betaq(beta: np.ndarray, rand: np.ndarray, eta: float) -> np.ndarray:
    alpha = 2.0 - np.power(beta, -(eta + 1.0))
    low = rand <= 1.0 / alpha
    out = np.empty_like(rand)
    with np.errstate(invalid="ignore", divide="ignore"):
        out[low] = np.power(rand[low] * alpha[low], 1.0 / (eta + 1.0))
        out[~low] = np.power(1.0 / (2.0 - rand[~low] * alpha[~low]), 1.0 / (eta + 1.0))
    return out


def sbx(P1: np.ndarray, P2: np.ndarray, xl: np.ndarray, xu: np.ndarray,
        rng: np.random.Generator, eta: float = 15.0, prob_var: float = 0.5,
        eps: float = 1e-14) -> tuple[np.ndarray, np.ndarray]:
    """Bounded SBX of parent rows P1, P2 (shape (k, n)); returns two children matrices."""
    cross = rng.random(P1.shape) < prob_var
    cross &= np.abs(P1 - P2) > eps
    cross &= (xl != xu)[None, :]
    C1, C2 = P1.copy(), P2.copy()
    p1, p2 = P1[cross], P2[cross]
    small = p1 < p2
    y1, y2 = np.where(small, p1, p2), np.where(small, p2, p1)
    lo = np.broadcast_to(xl, P1.shape)[cross]
    hi = np.broadcast_to(xu, P1.shape)[cross]
    rand = rng.random(len(y1))
    delta = y2 - y1
    c1 = 0.5 * ((y1 + y2) - _betaq(1.0 + 2.0 * (y1 - lo) / delta, rand, eta) * delta)
    c2 = 0.5 * ((y1 + y2) + _betaq(1.0 + 2.0 * (hi - y2) / delta, rand, eta) * delta)
    swap = rng.random(len(y1)) < 0.5
    C1[cross] = np.clip(np.where(swap, c2, c1), lo, hi)
    C2[cross] = np.clip(np.where(swap, c1, c2), lo, hi)
    return C1, C2


def polynomial_mutation(X: np.ndarray, xl: np.ndarray, xu: np.ndarray, rng: np.random.Generator,
                        eta: float = 20.0, prob_var: float = 0.1) -> np.ndarray:
    """Bounded polynomial mutation of each entry with probability `prob_var`."""
    mut = (rng.random(X.shape) < prob_var) & (xl != xu)[None, :]
    Y = X.copy()
    x = X[mut]
    lo = np.broadcast_to(xl, X.shape)[mut]
    hi = np.broadcast_to(xu, X.shape)[mut]
    d1, d2 = (x - lo) / (hi - lo), (hi - x) / (hi - lo)
    power = 1.0 / (eta + 1.0)
    rand = rng.random(len(x))
    left = rand <= 0.5
    with np.errstate(invalid="ignore"):
        v1 = 2.0 * rand + (1.0 - 2.0 * rand) * np.power(1.0 - d1, eta + 1.0)
        v2 = 2.0 * (1.0 - rand) + 2.0 * (rand - 0.5) * np.power(1.0 - d2, eta + 1.0)
        dq = np.where(left, np.power(v1, power) - 1.0, 1.0 - np.power(v2, power))
    Y[mut] = np.clip(x + dq * (hi - lo), lo, hi)
    return Y


def uniform_crossover(P1: np.ndarray, P2: np.ndarray,
                      rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Swap each entry between the parents with probability 0.5."""
    swap = rng.random(P1.shape) < 0.5
    return np.where(swap, P2, P1), np.where(swap, P1, P2)


def reset_mutation(X: np.ndarray, xl: np.ndarray, xu: np.ndarray, rng: np.random.Generator,
                   prob_var: float) -> np.ndarray:
    """Move each entry with probability `prob_var` to a different admissible integer value.

    For a boolean column this is a bit flip; for a categorical one a new choice.
    """
    span = (xu - xl).astype(int)
    mut = (rng.random(X.shape) < prob_var) & (span > 0)[None, :]
    # a uniform offset in 1..span, wrapped, never lands on the current value
    offset = 1 + np.floor(rng.random(X.shape) * np.maximum(span, 1)).astype(int)
    moved = xl + np.mod(X - xl + offset, span + 1)
    return np.where(mut, moved, X)


def vary(genome: Genome, P1: np.ndarray, P2: np.ndarray, rng: np.random.Generator,
         params: Variation) -> np.ndarray:
    """Children of the mating pairs (P1[i], P2[i]): crossover then mutation, 2 per pair."""
    k, n = P1.shape
    mate = np.asarray(rng.random(k) < params.sbx_prob)
    C1, C2 = P1.copy(), P2.copy()
    num, disc = genome.numeric, genome.discrete
    if mate.any():
        if num.any():
            a, b = sbx(P1[mate][:, num], P2[mate][:, num], genome.xl[num], genome.xu[num], rng,
                       params.sbx_eta, params.sbx_prob_var)
            C1[np.ix_(mate, num)], C2[np.ix_(mate, num)] = a, b
        if disc.any():
            a, b = uniform_crossover(P1[mate][:, disc], P2[mate][:, disc], rng)
            C1[np.ix_(mate, disc)], C2[np.ix_(mate, disc)] = a, b
    C = np.concatenate([C1, C2])
    pv = params.pm_prob_var if params.pm_prob_var is not None else min(0.5, 1.0 / n)
    who = rng.random(len(C)) < params.pm_prob
    if who.any():
        M = C[who]
        if num.any():
            M[:, num] = polynomial_mutation(M[:, num], genome.xl[num], genome.xu[num], rng,
                                            params.pm_eta, pv)
        if disc.any():
            M[:, disc] = reset_mutation(M[:, disc], genome.xl[disc], genome.xu[disc], rng, pv)
        C[who] = M
    return genome.repair(C)


def unique_rows(X: np.ndarray, others: np.ndarray | None = None) -> np.ndarray:
    """Mask of rows of X that repeat neither an earlier row of X nor any row of `others`.

    Rows compare exactly (by their bytes), through one sort instead of an n² scan.
    """
    n = len(X)
    if n == 0:
        return np.ones(0, dtype=bool)
    rows = X if others is None or len(others) == 0 else np.concatenate([others, X])
    rows = np.ascontiguousarray(rows, dtype=float) + 0.0  # folds -0.0 into 0.0
    view = rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()
    _, first = np.unique(view, return_index=True)
    keep = np.zeros(len(rows), dtype=bool)
    keep[first] = True
    return keep[len(rows) - n:]
