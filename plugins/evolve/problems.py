"""Built-in benchmark problems, vectorized over a batch of rows.

ZDT1-3 and ZDT6 (Zitzler, Deb & Thiele 2000), DTLZ1-2 (Deb, Thiele, Laumanns &
Zitzler 2002), Rastrigin, Rosenbrock and Sphere. `true_hv` is the hypervolume
of the true Pareto front at reference point 1.1 per objective (the values the
issue names, computed analytically or from a dense sampling of the front).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from catalytic.plugins.evolve.genome import Genome


@dataclass(frozen=True)
class Problem:
    """A named test function: genome, objective count and the vectorized function."""

    name: str
    n_var: int
    n_obj: int
    low: float
    high: float
    fn: Callable[[np.ndarray], np.ndarray]
    true_hv: float | None = None
    optimum: float | None = None

    def genome(self) -> Genome:
        return Genome.reals(self.n_var, self.low, self.high)

    def evaluate(self, X: np.ndarray) -> np.ndarray:
        """Objective matrix (rows × n_obj) of the rows of X (all minimized)."""
        return self.fn(np.atleast_2d(X))


def _zdt_g(X: np.ndarray) -> np.ndarray:
    return 1.0 + 9.0 * X[:, 1:].sum(axis=1) / (X.shape[1] - 1)


def zdt1(X: np.ndarray) -> np.ndarray:
    f1, g = X[:, 0], _zdt_g(X)
    return np.column_stack([f1, g * (1.0 - np.sqrt(f1 / g))])


def zdt2(X: np.ndarray) -> np.ndarray:
    f1, g = X[:, 0], _zdt_g(X)
    return np.column_stack([f1, g * (1.0 - (f1 / g) ** 2)])


def zdt3(X: np.ndarray) -> np.ndarray:
    f1, g = X[:, 0], _zdt_g(X)
    return np.column_stack([f1, g * (1.0 - np.sqrt(f1 / g) - f1 / g * np.sin(10 * np.pi * f1))])


def zdt6(X: np.ndarray) -> np.ndarray:
    x1 = X[:, 0]
    f1 = 1.0 - np.exp(-4.0 * x1) * np.sin(6.0 * np.pi * x1) ** 6
    g = 1.0 + 9.0 * (X[:, 1:].sum(axis=1) / (X.shape[1] - 1)) ** 0.25
    return np.column_stack([f1, g * (1.0 - (f1 / g) ** 2)])


def _dtlz_front(base: np.ndarray, X: np.ndarray, m: int, trig: bool) -> np.ndarray:
    cols = []
    for i in range(m):
        f = base.copy()
        k = m - 1 - i
        if trig:
            f *= np.prod(np.cos(X[:, :k] * np.pi / 2), axis=1)
            if i > 0:
                f *= np.sin(X[:, k] * np.pi / 2)
        else:
            f *= np.prod(X[:, :k], axis=1)
            if i > 0:
                f *= 1.0 - X[:, k]
        cols.append(f)
    return np.column_stack(cols)


def dtlz1(X: np.ndarray, m: int = 3) -> np.ndarray:
    Xm = X[:, m - 1:]
    g = 100.0 * (Xm.shape[1] + ((Xm - 0.5) ** 2 - np.cos(20 * np.pi * (Xm - 0.5))).sum(axis=1))
    return _dtlz_front(0.5 * (1.0 + g), X, m, trig=False)


def dtlz2(X: np.ndarray, m: int = 3) -> np.ndarray:
    g = ((X[:, m - 1:] - 0.5) ** 2).sum(axis=1)
    return _dtlz_front(1.0 + g, X, m, trig=True)


def rastrigin(X: np.ndarray) -> np.ndarray:
    return (10.0 * X.shape[1] + (X**2 - 10.0 * np.cos(2 * np.pi * X)).sum(axis=1))[:, None]


def rosenbrock(X: np.ndarray) -> np.ndarray:
    return (100.0 * (X[:, 1:] - X[:, :-1] ** 2) ** 2 + (1 - X[:, :-1]) ** 2).sum(axis=1)[:, None]


def sphere(X: np.ndarray) -> np.ndarray:
    return (X**2).sum(axis=1)[:, None]


PROBLEMS: dict[str, Problem] = {
    p.name: p
    for p in (
        Problem("zdt1", 30, 2, 0.0, 1.0, zdt1, true_hv=0.876667),
        Problem("zdt2", 30, 2, 0.0, 1.0, zdt2, true_hv=0.543333),
        Problem("zdt3", 30, 2, 0.0, 1.0, zdt3, true_hv=1.33176),
        Problem("zdt6", 10, 2, 0.0, 1.0, zdt6, true_hv=0.503801),
        Problem("dtlz1", 7, 3, 0.0, 1.0, dtlz1, true_hv=1.310167),
        Problem("dtlz2", 10, 3, 0.0, 1.0, dtlz2, true_hv=0.807401),
        Problem("rastrigin", 30, 1, -5.12, 5.12, rastrigin, optimum=0.0),
        Problem("rosenbrock", 30, 1, -2.048, 2.048, rosenbrock, optimum=0.0),
        Problem("sphere", 30, 1, -5.12, 5.12, sphere, optimum=0.0),
    )
}


def get_problem(name: str) -> Problem:
    """The built-in problem called `name` (KeyError names the allowed ones)."""
    try:
        return PROBLEMS[name.lower()]
    except KeyError:
        raise KeyError(f"unknown problem {name!r}; built-in: {', '.join(PROBLEMS)}") from None
