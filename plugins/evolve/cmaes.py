"""CMA-ES for continuous single-objective problems, through the well-kept `cma` package.

The wrapper gives `cma.CMAEvolutionStrategy` the same ask/tell shape as the
genetic algorithms, draws its normal samples from the study's own
`numpy.random.Generator` (so runs are deterministic by seed and never touch
numpy's global state), turns failures and constraint violations into
penalties, and restarts with a fresh strategy when `cma` declares convergence
(a simple restart scheme, without population growth).

`cma` is imported only when a strategy is built: it pulls in scipy and
matplotlib (about 100 MiB of resident memory), which a daemon that never runs
CMA-ES should not carry. Unpickling a study imports it through pickle.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from catalytic.plugins.evolve.genome import Genome

if TYPE_CHECKING:
    import cma


class Normal:
    """A picklable `randn(lam, n)` drawing from a Generator (cma's `randn` option)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def __call__(self, *shape: int) -> np.ndarray:
        return self.rng.standard_normal(shape)


class CmaEs:
    """Ask/tell CMA-ES over the real genes of a genome (every gene must be real)."""

    kind = "cmaes"

    def __init__(self, genome: Genome, seed: int | None = None, popsize: int | None = None,
                 sigma_fraction: float = 0.3, rng: np.random.Generator | None = None) -> None:
        if not genome.real.all():
            raise ValueError("algorithm: cmaes needs every gene to be real")
        self.genome = genome
        self.n_obj = 1
        self.rng = rng if rng is not None else np.random.default_rng(seed)
        self.popsize = popsize
        self.sigma_fraction = sigma_fraction
        self.generation = 0
        self.evaluations = 0
        self.restarts = 0
        self.best_x: np.ndarray | None = None
        self.best_f = math.inf
        self.es = self._new()
        self.pop_size = int(self.es.popsize)
        self.X = np.empty((0, genome.size))
        self.F = np.empty((0, 1))
        self.CV = np.empty(0)

    def _new(self) -> cma.CMAEvolutionStrategy:
        import cma  # lazily: see the module docstring

        span = self.genome.xu - self.genome.xl
        x0 = self.genome.xl + self.rng.random(self.genome.size) * span
        opts: dict[str, Any] = {
            "bounds": [self.genome.xl.tolist(), self.genome.xu.tolist()],
            "CMA_stds": (span / span.max()).tolist(),
            "randn": Normal(self.rng),
            "seed": np.nan,
            "verbose": -9,
        }
        if self.popsize:
            opts["popsize"] = self.popsize
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return cma.CMAEvolutionStrategy(x0.tolist(), self.sigma_fraction * float(span.max()),
                                            opts)

    def ask(self) -> np.ndarray:
        if self.es.stop():
            self.restarts += 1
            self.es = self._new()
        return np.asarray(self.es.ask(), dtype=float)

    def tell(self, X: np.ndarray, F: np.ndarray, CV: np.ndarray | None = None) -> None:
        X = np.atleast_2d(np.asarray(X, dtype=float))
        f = np.asarray(F, dtype=float).reshape(len(X))
        cv = np.zeros(len(X)) if CV is None else np.asarray(CV, dtype=float).reshape(len(X))
        bad = ~np.isfinite(f) | ~np.isfinite(cv)
        finite = f[~bad]
        worst = float(finite.max()) if finite.size else 0.0
        penalised = np.where(bad, worst + 1e6, f + 1e6 * np.maximum(cv, 0) * (cv > 0))
        self.evaluations += len(X)
        self.generation += 1
        feasible = ~bad & (cv <= 0)
        if feasible.any():
            i = int(np.argmin(np.where(feasible, f, np.inf)))
            if f[i] < self.best_f:
                self.best_f, self.best_x = float(f[i]), X[i].copy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.es.tell(list(X), penalised.tolist())
        self.X, self.F = X, np.where(bad, np.inf, f)[:, None]
        self.CV = np.where(bad, np.inf, cv)
        if self.best_x is not None:  # the incumbent is always part of the reported population
            self.X = np.concatenate([self.X, self.best_x[None, :]])
            self.F = np.concatenate([self.F, [[self.best_f]]])
            self.CV = np.concatenate([self.CV, [0.0]])

    def front(self) -> np.ndarray:
        return np.array([len(self.X) - 1]) if self.best_x is not None else np.empty(0, dtype=int)

    def best(self) -> int | None:
        return len(self.X) - 1 if self.best_x is not None else None

    def emigrants(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self.best_x is None or n <= 0:
            return np.empty((0, self.genome.size)), np.empty((0, 1)), np.empty(0)
        return self.best_x[None, :].copy(), np.array([[self.best_f]]), np.zeros(1)

    def replace_worst(self, X: np.ndarray, F: np.ndarray, CV: np.ndarray) -> None:
        """An immigrant better than the incumbent becomes the incumbent (CMA keeps its mean)."""
        for x, f, cv in zip(X, F[:, 0], CV, strict=True):
            if cv <= 0 and f < self.best_f:
                self.best_f, self.best_x = float(f), x.copy()
