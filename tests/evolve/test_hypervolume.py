"""The moocore-backed hypervolume equals the former exact sweep on random fronts."""

from __future__ import annotations

import time

import numpy as np
import pytest

from catalytic.plugins.evolve.hypervolume import hypervolume


def sweep2(P: np.ndarray, ref: np.ndarray) -> float:
    """The former implementation: sort by the first objective, sum rectangles."""
    P = P[np.lexsort((P[:, 1], P[:, 0]))]
    best, total = ref[1], 0.0
    for x, y in P:
        if y < best:
            total += (ref[0] - x) * (best - y)
            best = y
    return total


def sweep3(P: np.ndarray, ref: np.ndarray) -> float:
    """The former implementation: sweep the third objective, add 2-D slices (O(n² log n))."""
    P = P[np.argsort(P[:, 2], kind="mergesort")]
    zs = np.append(P[:, 2], ref[2])
    return sum(sweep2(P[: i + 1, :2], ref[:2]) * (zs[i + 1] - zs[i]) for i in range(len(P)))


def reference(P: np.ndarray, ref: np.ndarray) -> float:
    P = P[np.all(ref > P, axis=1)]
    if len(P) == 0:
        return 0.0
    return sweep2(P, ref) if P.shape[1] == 2 else sweep3(P, ref)


def random_front(rng: np.random.Generator, n: int, m: int, trial: int) -> np.ndarray:
    P = rng.random((n, m))
    if trial % 3 == 0:
        P /= np.linalg.norm(P, axis=1, keepdims=True)  # mostly non-dominated (a sphere)
    if trial % 4 == 1:
        P = np.round(P * 5) / 5  # ties and repeated points
    if trial % 5 == 2:
        P = P * 1.5  # some points beyond the reference
    return P


@pytest.mark.parametrize("m", [2, 3])
def test_equals_the_former_sweep_on_random_fronts(m: int) -> None:
    rng = np.random.default_rng(m)
    for trial in range(150):
        n = int(rng.integers(1, 300))
        P = random_front(rng, n, m, trial)
        ref = np.full(m, 1.1) if trial % 2 else rng.random(m) + 0.8
        assert hypervolume(P, ref) == pytest.approx(reference(P, ref), rel=1e-12, abs=1e-15), \
            f"trial {trial}: n={n}"


def test_edge_cases() -> None:
    assert hypervolume(np.empty((0, 3)), [1, 1, 1]) == 0.0
    assert hypervolume([[2.0, 2.0]], [1.0, 1.0]) == 0.0  # beyond the reference
    assert hypervolume([[0.5, np.nan], [0.5, 0.5]], [1.0, 1.0]) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="shape"):
        hypervolume([[0.1, 0.2, 0.3]], [1.0, 1.0])


def test_large_three_objective_front_is_fast() -> None:
    """10,000 points on a sphere: the former sweep took minutes; generous bound."""
    rng = np.random.default_rng(0)
    P = np.abs(rng.normal(size=(10_000, 3)))
    P /= np.linalg.norm(P, axis=1, keepdims=True)
    t0 = time.perf_counter()
    value = hypervolume(P, [1.1, 1.1, 1.1])
    assert time.perf_counter() - t0 < 5.0
    assert 1.1 ** 3 - 1 < value < 1.1 ** 3  # the sphere's dominated volume is below 1.331
