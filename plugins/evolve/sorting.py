"""Constraint domination, non-dominated sort, crowding distance and pruning, tournaments.

All objectives are minimized here (the engine negates maximized ones). `CV` is
the total constraint violation of each row: 0 when feasible. Constraint
domination (Deb 2000): a feasible row beats an infeasible one, of two
infeasible rows the smaller violation wins, feasible rows compare by Pareto
dominance.
"""

from __future__ import annotations

import numpy as np


def dominance_matrix(F: np.ndarray, CV: np.ndarray | None = None) -> np.ndarray:
    """D[i, j] is True when row i constraint-dominates row j (vectorized, O(n² m))."""
    n = len(F)
    le = np.ones((n, n), dtype=bool)
    lt = np.zeros((n, n), dtype=bool)
    for k in range(F.shape[1]):  # per objective: avoids an (n, n, m) temporary
        col = F[:, k]
        le &= col[:, None] <= col[None, :]
        lt |= col[:, None] < col[None, :]
    D = le & lt
    if CV is None:
        return D
    feas = CV <= 0
    both = feas[:, None] & feas[None, :]
    by_cv = CV[:, None] < CV[None, :]
    return np.where(both, D, by_cv)


def non_dominated_sort(F: np.ndarray, CV: np.ndarray | None = None,
                       n_stop: int | None = None) -> list[np.ndarray]:
    """Fronts (index arrays, best first) by Deb's fast non-dominated sort.

    Stops once at least `n_stop` rows are ranked, when given.
    """
    n = len(F)
    if n == 0:
        return []
    D = dominance_matrix(F, CV)
    count = D.sum(axis=0)  # how many rows dominate each row
    fronts: list[np.ndarray] = []
    ranked = 0
    current = np.flatnonzero(count == 0)
    while len(current):
        fronts.append(current)
        ranked += len(current)
        if n_stop is not None and ranked >= n_stop:
            break
        count = count - D[current].sum(axis=0)
        count[current] = -1  # earlier fronts are never dominated by later ones
        current = np.flatnonzero(count == 0)
    return fronts


def ranks(F: np.ndarray, CV: np.ndarray | None = None) -> np.ndarray:
    """Front number of every row (0 = non-dominated)."""
    out = np.empty(len(F), dtype=int)
    for k, front in enumerate(non_dominated_sort(F, CV)):
        out[front] = k
    return out


def _gap_terms(F: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per objective: the rows in stable sorted order and the objective's range (nan when
    constant); per row and objective: the normalized gap to the row before and after it in
    that order (inf at the ends, 0 in a constant objective). Crowding sums the gaps."""
    m = F.shape[1]
    order = np.argsort(F, axis=0, kind="mergesort")
    S = F[order, np.arange(m)]
    gaps = np.vstack([S, np.full(m, np.inf)]) - np.vstack([np.full(m, -np.inf), S])
    norm = S[-1] - S[0]
    norm[norm == 0] = np.nan
    with np.errstate(invalid="ignore"):
        before, after = gaps[:-1] / norm, gaps[1:] / norm
    before[np.isnan(before)] = 0.0
    after[np.isnan(after)] = 0.0
    back = np.argsort(order, axis=0)
    return order, norm, before[back, np.arange(m)], after[back, np.arange(m)]


def crowding_distance(F: np.ndarray) -> np.ndarray:
    """NSGA-II crowding distance of the rows of one front (boundary rows get inf)."""
    n, m = F.shape
    if n <= 2:
        return np.full(n, np.inf)
    _, _, before, after = _gap_terms(F)
    return (before + after).sum(axis=1) / m


def prune_by_crowding(F: np.ndarray, n_keep: int, rng: np.random.Generator
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Keep `n_keep` rows of one front by dropping the most crowded row one at a time and
    recomputing crowding after each drop (Kukkonen & Deb 2006; pymoo's "pcd"): one pass
    of plain crowding can drop two close neighbours together and open a gap. Returns the
    kept rows, least crowded first, and their crowding distances. Ties go by chance.

    A drop changes only its neighbours' gaps in each objective while the objectives'
    ranges stand, which they do until a boundary row (infinite crowding) has to go: so
    each drop updates at most 2m rows, and only then is crowding recomputed in full."""
    alive = rng.permutation(len(F))
    G = F[alive]  # position i is alive[i]: argmin's first-minimum rule stays alive's order
    n, m = G.shape
    gone = np.zeros(n, dtype=bool)
    left = n
    if n > 2 and n > n_keep:
        order, norm, before, after = _gap_terms(G)
        prev, nxt = np.full((m, n), -1), np.full((m, n), -1)
        for k in range(m):
            prev[k, order[1:, k]], nxt[k, order[:-1, k]] = order[:-1, k], order[1:, k]
        cd = (before + after).sum(axis=1) / m
        while left > max(n_keep, 2):
            i = int(np.argmin(cd))
            if cd[i] == np.inf:
                break  # only boundary rows are left to drop: ranges change
            gone[i], cd[i], left = True, np.inf, left - 1
            touched = []
            for k in range(m):
                p, q = prev[k, i], nxt[k, i]
                gap = G[q, k] - G[p, k] if p >= 0 and q >= 0 else np.inf
                with np.errstate(invalid="ignore"):
                    term = gap / norm[k]
                term = 0.0 if np.isnan(term) else term
                if p >= 0:
                    nxt[k, p], after[p, k] = q, term
                    touched.append(p)
                if q >= 0:
                    prev[k, q], before[q, k] = p, term
                    touched.append(q)
            rows = np.array(touched)
            cd[rows] = (before[rows] + after[rows]).sum(axis=1) / m
    kept = alive[~gone]
    cd = crowding_distance(F[kept])
    while len(kept) > n_keep:  # the rest, recomputing in full (few rows, ranges change)
        kept = np.delete(kept, int(np.argmin(cd)))
        cd = crowding_distance(F[kept])
    order = np.argsort(-cd, kind="stable")
    return kept[order], cd[order]


def pareto_relation(Fa: np.ndarray, Fb: np.ndarray) -> np.ndarray:
    """Per pair: 1 when a dominates b, -1 when b dominates a, 0 otherwise."""
    a_le = (Fa <= Fb).all(axis=1) & (Fa < Fb).any(axis=1)
    b_le = (Fb <= Fa).all(axis=1) & (Fb < Fa).any(axis=1)
    return a_le.astype(int) - b_le.astype(int)


def random_pairs(n_pop: int, n_pairs: int, rng: np.random.Generator) -> np.ndarray:
    """Tournament entrants drawn from concatenated random permutations (as pymoo does)."""
    need = 2 * n_pairs
    perms = [rng.permutation(n_pop) for _ in range(-(-need // n_pop))]
    return np.concatenate(perms)[:need].reshape(n_pairs, 2)


def binary_tournament(F: np.ndarray, CV: np.ndarray, crowd: np.ndarray, n_winners: int,
                      rng: np.random.Generator) -> np.ndarray:
    """Winners of `n_winners` tournaments: violation, then dominance, then crowding, then chance."""
    P = random_pairs(len(F), n_winners, rng)
    a, b = P[:, 0], P[:, 1]
    coin = rng.random(n_winners) < 0.5
    winner = np.where(coin, a, b)
    infeasible = (CV[a] > 0) | (CV[b] > 0)
    rel = pareto_relation(F[a], F[b])
    ca, cb = crowd[a], crowd[b]
    by_crowd = np.where(ca > cb, a, np.where(cb > ca, b, winner))
    feas_pick = np.where(rel == 1, a, np.where(rel == -1, b, by_crowd))
    cv_pick = np.where(CV[a] < CV[b], a, np.where(CV[b] < CV[a], b, winner))
    return np.where(infeasible, cv_pick, feas_pick)


def fitness_tournament(f: np.ndarray, CV: np.ndarray, n_winners: int,
                       rng: np.random.Generator) -> np.ndarray:
    """Single-objective tournaments: violation first, then the smaller value, ties by chance."""
    P = random_pairs(len(f), n_winners, rng)
    a, b = P[:, 0], P[:, 1]
    coin = np.where(rng.random(n_winners) < 0.5, a, b)
    infeasible = (CV[a] > 0) | (CV[b] > 0)
    cv_pick = np.where(CV[a] < CV[b], a, np.where(CV[b] < CV[a], b, coin))
    f_pick = np.where(f[a] < f[b], a, np.where(f[b] < f[a], b, coin))
    return np.where(infeasible, cv_pick, f_pick)


def random_tournament(CV: np.ndarray, n_winners: int, rng: np.random.Generator) -> np.ndarray:
    """NSGA-III's selection: the smaller violation, else either at random."""
    P = random_pairs(len(CV), n_winners, rng)
    a, b = P[:, 0], P[:, 1]
    coin = np.where(rng.random(n_winners) < 0.5, a, b)
    return np.where(CV[a] < CV[b], a, np.where(CV[b] < CV[a], b, coin))
