"""NSGA-III survival (Deb & Jain 2014): reference directions, normalization, niching.

Follows the reference implementation's steps (as in pymoo): running ideal and
worst points, extreme points by achievement scalarization, intercepts of the
hyperplane through them (falling back to the front's worst point), association
of each member to its nearest reference line, and niche-preserving selection
from the last front.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import comb

import numpy as np

from catalytic.plugins.evolve.sorting import non_dominated_sort


def das_dennis(n_obj: int, partitions: int) -> np.ndarray:
    """All points on the unit simplex with coordinates in multiples of 1/partitions."""
    if n_obj == 1:
        return np.ones((1, 1))
    out: list[list[int]] = []

    def rec(prefix: list[int], left: int, depth: int) -> None:
        if depth == n_obj - 1:
            out.append([*prefix, left])
            return
        for i in range(left + 1):
            rec([*prefix, i], left - i, depth + 1)

    rec([], partitions, 0)
    return np.array(out, dtype=float) / partitions


def reference_directions(n_obj: int, pop_size: int) -> np.ndarray:
    """Das-Dennis directions with the most partitions that give at most `pop_size` points."""
    p = 1
    while comb(p + 1 + n_obj - 1, n_obj - 1) <= pop_size:
        p += 1
    return das_dennis(n_obj, p)


@dataclass
class ReferenceState:
    """What NSGA-III carries from one generation to the next."""

    ref_dirs: np.ndarray
    ideal: np.ndarray = field(default_factory=lambda: np.empty(0))
    worst: np.ndarray = field(default_factory=lambda: np.empty(0))
    extreme: np.ndarray | None = None


def _extreme_points(F: np.ndarray, ideal: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
    m = F.shape[1]
    weights = np.eye(m)
    weights[weights == 0] = 1e6
    cand = F if previous is None else np.concatenate([previous, F])
    shifted = cand - ideal
    shifted[shifted < 1e-3] = 0
    asf = np.max(shifted * weights[:, None, :], axis=2)
    return cand[np.argmin(asf, axis=1)]


def _nadir(extreme: np.ndarray, ideal: np.ndarray, worst: np.ndarray,
           worst_pop: np.ndarray, worst_front: np.ndarray) -> np.ndarray:
    try:
        M = extreme - ideal
        b = np.ones(len(ideal))
        plane = np.linalg.solve(M, b)
        with np.errstate(divide="ignore"):
            intercepts = 1.0 / plane
        nadir = ideal + intercepts
        if not np.allclose(M @ plane, b) or np.any(intercepts <= 1e-6):
            raise np.linalg.LinAlgError
        over = nadir > worst
        nadir[over] = worst[over]
    except np.linalg.LinAlgError:
        nadir = worst_front.copy()
    flat = nadir - ideal <= 1e-6
    nadir[flat] = worst_pop[flat]
    return nadir


def _associate(F: np.ndarray, ref_dirs: np.ndarray, ideal: np.ndarray,
               nadir: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    denom = nadir - ideal
    denom[denom == 0] = 1e-12
    N = (F - ideal) / denom
    U = ref_dirs / np.linalg.norm(ref_dirs, axis=1, keepdims=True)
    proj = N @ U.T  # (n, r) scalar projections
    dist = np.sqrt(np.maximum((N**2).sum(axis=1)[:, None] - proj**2, 0.0))
    niche = np.argmin(dist, axis=1)
    return niche, dist[np.arange(len(F)), niche]


def _niching(n_remaining: int, niche_count: np.ndarray, niche: np.ndarray, dist: np.ndarray,
             rng: np.random.Generator) -> list[int]:
    chosen: list[int] = []
    open_ = np.ones(len(niche), dtype=bool)
    while len(chosen) < n_remaining:
        n_select = n_remaining - len(chosen)
        candidates = np.unique(niche[open_])
        counts = niche_count[candidates]
        least = candidates[counts == counts.min()]
        least = least[rng.permutation(len(least))[:n_select]]
        for j in least:
            members = np.flatnonzero((niche == j) & open_)
            rng.shuffle(members)
            pick = members[np.argmin(dist[members])] if niche_count[j] == 0 else members[0]
            open_[pick] = False
            chosen.append(int(pick))
            niche_count[j] += 1
    return chosen


def survive(F: np.ndarray, CV: np.ndarray, n: int, state: ReferenceState,
            rng: np.random.Generator) -> np.ndarray:
    """Indices of the `n` survivors of F (feasible ones by NSGA-III, then least violation)."""
    feas = np.flatnonzero(CV <= 0)
    infeas = np.flatnonzero(CV > 0)
    if len(feas) < n:
        rest = infeas[np.argsort(CV[infeas], kind="stable")][: n - len(feas)]
        if len(feas):
            _update(F[feas], state)
        return np.concatenate([feas, rest])
    Ff = F[feas]
    _update(Ff, state)
    fronts = non_dominated_sort(Ff, n_stop=n)
    state.extreme = _extreme_points(Ff[fronts[0]], state.ideal, state.extreme)
    nadir = _nadir(state.extreme, state.ideal, state.worst, Ff.max(axis=0), Ff[fronts[0]].max(0))
    ranked = np.concatenate(fronts)
    niche, dist = _associate(Ff[ranked], state.ref_dirs, state.ideal, nadir)
    if len(ranked) <= n:
        return feas[ranked]
    last = len(ranked) - len(fronts[-1])
    niche_count = np.bincount(niche[:last], minlength=len(state.ref_dirs))
    picks = _niching(n - last, niche_count, niche[last:], dist[last:], rng)
    keep = np.concatenate([ranked[:last], ranked[last:][picks]])
    return feas[keep]


def _update(F: np.ndarray, state: ReferenceState) -> None:
    lo, hi = F.min(axis=0), F.max(axis=0)
    state.ideal = lo if state.ideal.size == 0 else np.minimum(state.ideal, lo)
    state.worst = hi if state.worst.size == 0 else np.maximum(state.worst, hi)
