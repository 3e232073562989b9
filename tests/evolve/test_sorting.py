"""Non-dominated sort, crowding and hypervolume against brute force on random fronts."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from catalytic.plugins.evolve.algorithms import rank_and_crowding
from catalytic.plugins.evolve.hypervolume import hypervolume
from catalytic.plugins.evolve.sorting import (
    binary_tournament,
    crowding_distance,
    dominance_matrix,
    non_dominated_sort,
    prune_by_crowding,
)


def brute_dominates(a: np.ndarray, b: np.ndarray, ca: float, cb: float) -> bool:
    if ca > 0 or cb > 0:
        return ca < cb
    return bool(all(x <= y for x, y in zip(a, b, strict=True))
                and any(x < y for x, y in zip(a, b, strict=True)))


def brute_ranks(F: np.ndarray, CV: np.ndarray) -> list[int]:
    left = set(range(len(F)))
    rank = [0] * len(F)
    k = 0
    while left:
        front = {i for i in left
                 if not any(brute_dominates(F[j], F[i], CV[j], CV[i]) for j in left if j != i)}
        for i in front:
            rank[i] = k
        left -= front
        k += 1
    return rank


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("m", [2, 3, 4])
def test_sort_matches_brute_force(seed: int, m: int) -> None:
    rng = np.random.default_rng(seed)
    n = 60
    # coarse integer values produce ties and duplicates on purpose
    F = rng.integers(0, 6, size=(n, m)).astype(float)
    CV = np.where(rng.random(n) < 0.2, rng.integers(1, 4, n), 0).astype(float)
    fronts = non_dominated_sort(F, CV)
    got = np.empty(n, dtype=int)
    for k, f in enumerate(fronts):
        got[f] = k
    assert got.tolist() == brute_ranks(F, CV)
    assert sorted(np.concatenate(fronts).tolist()) == list(range(n))


def test_dominance_matrix_is_irreflexive_and_asymmetric() -> None:
    F = np.random.default_rng(3).random((40, 3))
    D = dominance_matrix(F)
    assert not D.diagonal().any()
    assert not (D & D.T).any()


def test_n_stop_ranks_at_least_n() -> None:
    F = np.random.default_rng(1).random((100, 2))
    fronts = non_dominated_sort(F, n_stop=30)
    assert sum(len(f) for f in fronts) >= 30
    assert len(fronts) < len(non_dominated_sort(F))


def brute_crowding(F: np.ndarray) -> np.ndarray:
    n, m = F.shape
    d = np.zeros(n)
    for k in range(m):
        order = sorted(range(n), key=lambda i: (F[i, k], i))
        span = F[order[-1], k] - F[order[0], k]
        for pos, i in enumerate(order):
            if pos == 0 or pos == n - 1:
                d[i] = np.inf
            elif span > 0 and np.isfinite(d[i]):
                d[i] += (F[order[pos + 1], k] - F[order[pos - 1], k]) / span
    return d / m


@pytest.mark.parametrize("seed", range(5))
def test_crowding_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = np.sort(rng.random(25))
    F = np.column_stack([x, 1 - np.sqrt(x)])  # distinct points on one front
    np.testing.assert_allclose(crowding_distance(F), brute_crowding(F))


def test_crowding_small_fronts_are_infinite() -> None:
    assert np.isinf(crowding_distance(np.array([[0.0, 1.0], [1.0, 0.0]]))).all()


@pytest.mark.parametrize("seed", range(5))
def test_pruning_drops_the_most_crowded_one_at_a_time(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = np.sort(rng.random(40))
    F = np.column_stack([x, 1 - x**2, 0.5 * x + rng.random(40) * 0.01])[:, : 2 + seed % 2]
    F = F[rng.permutation(40)]
    alive = list(range(40))
    while len(alive) > 23:  # brute force: recompute every distance after each drop
        d = brute_crowding(F[alive])
        del alive[int(np.argmin(d))]
    kept, cd = prune_by_crowding(F, 23, np.random.default_rng(seed))
    assert sorted(kept.tolist()) == sorted(alive)
    np.testing.assert_allclose(cd, crowding_distance(F[kept]))
    assert (np.diff(cd[np.isfinite(cd)]) <= 0).all()  # least crowded first


def recompute_each_drop(F: np.ndarray, n_keep: int, rng: np.random.Generator
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Pruning as defined: drop the most crowded row, recompute every distance, repeat."""
    alive = rng.permutation(len(F))
    cd = crowding_distance(F[alive])
    while len(alive) > n_keep:
        alive = np.delete(alive, int(np.argmin(cd)))
        cd = crowding_distance(F[alive])
    order = np.argsort(-cd, kind="stable")
    return alive[order], cd[order]


def test_pruning_equals_recomputing_after_every_drop() -> None:
    """The neighbour-only updates give exactly the definition's rows, order and distances:
    random fronts with ties, a constant objective, and targets down to one row."""
    rng = np.random.default_rng(11)
    for trial in range(400):
        n, m = int(rng.integers(1, 60)), int(rng.integers(1, 5))
        F = rng.random((n, m))
        if trial % 3 == 0:
            F = np.round(F * 4) / 4  # many equal values
        if trial % 5 == 0:
            F[:, 0] = 0.5  # a constant objective
        n_keep = int(rng.integers(1, n + 1))
        got = prune_by_crowding(F, n_keep, np.random.default_rng(trial))
        want = recompute_each_drop(F, n_keep, np.random.default_rng(trial))
        np.testing.assert_array_equal(got[0], want[0], err_msg=f"trial {trial}")
        np.testing.assert_array_equal(got[1], want[1], err_msg=f"trial {trial}")


def brute_hv(P: np.ndarray, ref: np.ndarray, grid: int = 60) -> float:
    """Exact on a grid whose cells are aligned with every coordinate of P."""
    axes = [np.unique(np.append(P[:, k], ref[k])) for k in range(P.shape[1])]
    total = 0.0
    for cell in itertools.product(*[range(len(a) - 1) for a in axes]):
        lo = np.array([axes[k][c] for k, c in enumerate(cell)])
        hi = np.array([axes[k][c + 1] for k, c in enumerate(cell)])
        if (lo >= P).all(axis=1).any():
            total += float(np.prod(hi - lo))
    return total


@pytest.mark.parametrize("m", [2, 3])
@pytest.mark.parametrize("seed", range(4))
def test_hypervolume_matches_grid(m: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    P = rng.random((12, m))
    ref = np.full(m, 1.1)
    assert hypervolume(P, ref) == pytest.approx(brute_hv(P, ref), rel=1e-9)


def test_hypervolume_ignores_points_beyond_reference() -> None:
    assert hypervolume([[2.0, 0.0], [0.5, 0.5]], [1.0, 1.0]) == pytest.approx(0.25)
    assert hypervolume(np.empty((0, 2)), [1.0, 1.0]) == 0.0


def test_tournament_prefers_feasible_then_dominating() -> None:
    rng = np.random.default_rng(0)
    F = np.array([[0.0, 0.0], [1.0, 1.0], [0.5, 0.5], [0.2, 0.9]])
    CV = np.array([1.0, 0.0, 0.0, 0.0])
    crowd = np.zeros(4)
    winners = binary_tournament(F, CV, crowd, 400, rng)
    # the infeasible row 0 can never win against any of the feasible rows
    assert 0 not in set(winners.tolist())
    # row 1 is dominated by 2 and 3, so it only wins when paired with row 0
    share = (winners == 1).mean()
    assert share < 0.2


def test_one_pass_survival_keeps_the_least_crowded() -> None:
    rng = np.random.default_rng(3)
    x = np.sort(rng.random(30))
    F = np.column_stack([x, 1 - np.sqrt(x)])  # one front of distinct points
    keep, _ = rank_and_crowding(F, np.zeros(30), 12, rng, prune=False)
    np.testing.assert_array_equal(np.sort(keep), np.sort(np.argsort(-crowding_distance(F))[:12]))
    pruned, _ = rank_and_crowding(F, np.zeros(30), 12, rng)
    assert sorted(pruned.tolist()) != sorted(keep.tolist())  # pruning picks another set
