"""Ask/tell bookkeeping of one study: candidates with ids, batches, islands, termination.

A `StudyState` is a deterministic state machine: the same spec and the same
sequence of `ask`/`tell` calls give the same state. The store exploits that:
it journals each call and replays the journal on top of the last per-generation
checkpoint after a crash. Candidates are handed out batch by batch; an island
advances one generation when every candidate of one of its batches has been
told (a value or a failure), so several clients may hold batches at once.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from catalytic.plugins.evolve.algorithms import Algorithm
from catalytic.plugins.evolve.cmaes import CmaEs
from catalytic.plugins.evolve.hypervolume import hypervolume
from catalytic.plugins.evolve.islands import Optimizer, immigrants
from catalytic.plugins.evolve.sorting import non_dominated_sort
from catalytic.plugins.evolve.spec import SpecError, StudySpec

TELL = "evolve.tell"
"""The verb whose payload `StudyState.check` validates, named in its errors."""

MAX_ASK = 100_000
HISTORY = 1000


def make_island(spec: StudySpec, seed: np.random.SeedSequence) -> Optimizer:
    rng = np.random.default_rng(seed)
    if spec.algorithm == "cmaes":
        return CmaEs(spec.genome, popsize=spec.population, rng=rng)
    return Algorithm(spec.genome, spec.n_obj, spec.population, kind=spec.algorithm, rng=rng)


@dataclass
class Batch:
    island: int
    X: np.ndarray
    ids: list[int]
    F: np.ndarray
    CV: np.ndarray
    left: int


@dataclass
class StudyState:
    """One optimization: its spec, islands and the candidates in flight."""

    id: str
    spec: StudySpec
    islands: list[Optimizer] = field(default_factory=list)
    batches: dict[int, Batch] = field(default_factory=dict)
    pending: list[deque[tuple[int, int]]] = field(default_factory=list)
    outstanding: dict[int, tuple[int, int]] = field(default_factory=dict)
    next_id: int = 1
    next_batch: int = 1
    turn: int = 0
    evaluations: int = 0
    issued: int = 0
    failures: int = 0
    best: dict[str, Any] | None = None
    best_generation: int = 0
    last_hv: float | None = None
    reference: np.ndarray | None = None
    done: bool = False
    reason: str = ""
    seq: int = 0
    """Journaled calls applied so far (the store's replay position)."""
    history: list[tuple[Any, ...]] = field(default_factory=list)
    """(generation, evaluations, best score, hypervolume, mean score) per generation."""
    updated: float = 0.0
    """time.time() of the last generation (the dashboard charts the latest study)."""
    front: tuple[np.ndarray, np.ndarray] | None = None
    """`front_rows()` as of the last generation (None: not computed yet, e.g. a checkpoint
    of an earlier release); `pareto` reads it instead of sorting every island again."""

    @classmethod
    def new(cls, study_id: str, spec: StudySpec) -> StudyState:
        seeds = np.random.SeedSequence(spec.seed).spawn(spec.islands)
        s = cls(study_id, spec, [make_island(spec, sq) for sq in seeds])
        s.pending = [deque() for _ in range(spec.islands)]
        if spec.reference is not None:
            s.reference = np.array(spec.reference) * s.signs
        return s

    # -- helpers ----------------------------------------------------------------------------

    @property
    def signs(self) -> np.ndarray:
        return np.array([o.sign for o in self.spec.objectives])

    @property
    def generation(self) -> int:
        """Generations completed by every island (the slowest one)."""
        return min(i.generation for i in self.islands)

    @property
    def weights(self) -> np.ndarray:
        """The objectives' weights in the scalar score (equal when none were given)."""
        n = self.spec.n_obj
        return np.array(self.spec.weights) if self.spec.weights else np.full(n, 1 / n)

    def score(self, f_min: np.ndarray) -> float:
        return float(f_min @ self.weights)

    def reported(self, f_min: np.ndarray) -> list[float]:
        return (np.asarray(f_min) * self.signs).tolist()

    # -- ask --------------------------------------------------------------------------------

    def _island_open(self, i: int) -> bool:
        gens = self.spec.termination.generations
        island = self.islands[i]
        if gens is not None and island.generation >= gens:
            return False
        if isinstance(island, CmaEs):  # CMA-ES must be told a batch before the next one
            return not any(b.island == i for b in self.batches.values()) or bool(self.pending[i])
        return True

    def ask(self, n: int) -> list[tuple[int, np.ndarray]]:
        """Up to `n` candidates (id, row); fewer when the study is done or the budget is spent."""
        if n < 1 or n > MAX_ASK:
            raise SpecError("n", n, "evolve.ask", f"an integer from 1 to {MAX_ASK}")
        out: list[tuple[int, np.ndarray]] = []
        budget = self.spec.termination.evaluations
        k = len(self.islands)
        while len(out) < n and not self.done:
            if budget is not None and self.issued >= budget:
                break
            for _ in range(k):
                i = self.turn % k
                self.turn += 1
                if self.pending[i] or self._island_open(i):
                    break
            else:
                break
            if not self.pending[i]:
                self._new_batch(i)
            bid, row = self.pending[i].popleft()
            batch = self.batches[bid]
            cid = batch.ids[row]
            self.outstanding[cid] = (bid, row)
            self.issued += 1
            out.append((cid, batch.X[row]))
        return out

    def _new_batch(self, i: int) -> None:
        X = self.islands[i].ask()
        bid = self.next_batch
        self.next_batch += 1
        ids = list(range(self.next_id, self.next_id + len(X)))
        self.next_id += len(X)
        m = self.spec.n_obj
        self.batches[bid] = Batch(i, X, ids, np.full((len(X), m), np.nan), np.zeros(len(X)),
                                  len(X))
        self.pending[i].extend((bid, r) for r in range(len(X)))

    # -- tell -------------------------------------------------------------------------------

    def check(self, results: Any) -> list[tuple[int, np.ndarray | None, float]]:
        """Validate a `tell` payload without changing anything; name the offending field."""
        if not isinstance(results, Sequence) or isinstance(results, str | bytes):
            raise SpecError("results", results, TELL, "a list of {id, values} maps")
        seen: set[int] = set()
        out: list[tuple[int, np.ndarray | None, float]] = []
        for j, r in enumerate(results):
            where = f"results[{j}]"
            if not isinstance(r, Mapping):
                raise SpecError(where, r, TELL, "a map with id and values (or failed: true)")
            cid = r.get("id")
            if isinstance(cid, bool) or not isinstance(cid, int):
                raise SpecError(f"{where}.id", cid, TELL, "an integer candidate id")
            if cid in seen:
                raise SpecError(f"{where}.id", cid, TELL,
                                "each candidate once per call (this one appears twice)")
            seen.add(cid)
            if cid not in self.outstanding:
                what = "was already told" if 0 < cid < self.next_id else "is unknown"
                raise SpecError(f"{where}.id", cid, TELL,
                                f"a candidate still out in study {self.id} (this one {what})")
            violation = r.get("violation", 0.0) or 0.0
            if isinstance(violation, bool) or not isinstance(violation, int | float) \
                    or violation < 0 or math.isnan(violation):
                raise SpecError(f"{where}.violation", violation, TELL, "a number ≥ 0")
            if r.get("failed"):
                out.append((cid, None, float(violation)))
                continue
            values = r.get("values")
            if isinstance(values, int | float) and not isinstance(values, bool) \
                    and self.spec.n_obj == 1:
                values = [values]
            if not isinstance(values, Sequence) or isinstance(values, str | bytes) \
                    or len(values) != self.spec.n_obj or not all(
                        isinstance(v, int | float) and not isinstance(v, bool) for v in values):
                raise SpecError(f"{where}.values", values, TELL,
                                f"a list of {self.spec.n_obj} numbers (or failed: true)")
            out.append((cid, np.array(values, dtype=float), float(violation)))
        return out

    def tell(self, checked: list[tuple[int, np.ndarray | None, float]]) -> dict[str, Any]:
        """Record validated results; returns what happened (failures, generations completed)."""
        failed: list[int] = []
        completed = 0
        for cid, values, violation in checked:
            bid, row = self.outstanding.pop(cid)
            batch = self.batches[bid]
            self.evaluations += 1
            if values is None or not np.isfinite(values).all() or not math.isfinite(violation):
                failed.append(cid)
                self.failures += 1
                batch.F[row] = np.nan
                batch.CV[row] = np.inf
            else:
                batch.F[row] = values * self.signs
                batch.CV[row] = violation
                if violation <= 0:
                    self._consider_best(batch.X[row], batch.F[row])
            batch.left -= 1
            if batch.left == 0:
                self._finish_batch(bid)
                completed += 1
        self._check_done()
        return {"told": len(checked), "failed": failed, "generations_completed": completed}

    def _consider_best(self, x: np.ndarray, f_min: np.ndarray) -> None:
        s = self.score(f_min)
        if self.best is None or s < self.best["score"]:
            self.best = {"genes": self.spec.genome.decode(x), "values": self.reported(f_min),
                         "score": s}

    def _finish_batch(self, bid: int) -> None:
        batch = self.batches.pop(bid)
        island = self.islands[batch.island]
        island.tell(batch.X, batch.F, batch.CV)
        n = len(self.islands)
        if n > 1 and island.generation > 0 and \
                island.generation % self.spec.migration_interval == 0:
            X, F, CV = immigrants(batch.island, self.islands, self.spec.migration_rate,
                                  self.spec.topology)
            island.replace_worst(X, F, CV)
        self.end_generation()

    def end_generation(self) -> None:
        """Update hypervolume, stall counter and history after any island advanced."""
        before = self.best["score"] if self.best else None
        self.front = self.front_rows()
        self.refresh_best()
        hv = self.hypervolume()
        improved = (self.best is not None and (before is None or self.best["score"] < before)) \
            or (hv is not None and (self.last_hv is None or hv > self.last_hv + 1e-12))
        gen = max(i.generation for i in self.islands)
        if improved:
            self.best_generation = gen
        self.last_hv = hv
        self.history.append((gen, self.evaluations, self.best["score"] if self.best else None, hv,
                             self.mean_score()))
        del self.history[:-HISTORY]
        self.updated = time.time()  # wall clock: checkpoints outlive a reboot

    def mean_score(self) -> float | None:
        """Mean weighted score of the feasible individuals of every island (convergence)."""
        rows = [i.F[i.CV <= 0] for i in self.islands if len(i.F)]
        F = np.concatenate(rows) if rows else np.empty((0, self.spec.n_obj))
        F = F[np.isfinite(F).all(axis=1)]
        if not len(F):
            return None
        return float((F @ self.weights).mean())

    def refresh_best(self) -> None:
        """Take the best over the islands' populations too (server-side runs tell no one)."""
        for island in self.islands:
            b = island.best() if island.n_obj == 1 else None
            if b is not None and island.CV[b] <= 0:
                self._consider_best(island.X[b], island.F[b])
        if self.spec.n_obj > 1:
            X, F = self.current_front()
            for x, f in zip(X, F, strict=True):
                self._consider_best(x, f)

    def _check_done(self) -> None:
        t = self.spec.termination
        if self.done:
            return
        if t.generations is not None and all(i.generation >= t.generations for i in self.islands):
            self.done, self.reason = True, "generations"
        elif t.evaluations is not None and self.evaluations >= t.evaluations:
            self.done, self.reason = True, "evaluations"
        elif t.target is not None and self.best is not None and self.best["score"] <= t.target:
            self.done, self.reason = True, "target"
        elif t.stall is not None and max(i.generation for i in self.islands) \
                - self.best_generation >= t.stall:
            self.done, self.reason = True, "stall"

    # -- results ----------------------------------------------------------------------------

    def front_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """Feasible non-dominated rows over all islands (minimized form), without repeats."""
        Xs, Fs = [], []
        for island in self.islands:
            feas = np.flatnonzero(island.CV <= 0)
            Xs.append(island.X[feas])
            Fs.append(island.F[feas])
        X = np.concatenate(Xs)
        F = np.concatenate(Fs)
        if len(F) == 0:
            return X, F
        _, first = np.unique(X, axis=0, return_index=True)
        X, F = X[np.sort(first)], F[np.sort(first)]
        front = non_dominated_sort(F, n_stop=1)[0]
        return X[front], F[front]

    def current_front(self) -> tuple[np.ndarray, np.ndarray]:
        """The front as of the last generation (computed now if no generation cached it)."""
        if self.front is None:
            self.front = self.front_rows()
        return self.front

    def hypervolume(self) -> float | None:
        if self.spec.n_obj not in (2, 3):
            return None
        _, F = self.current_front()
        if len(F) == 0:
            return None
        if self.reference is None:  # fixed once, from the first feasible population
            P = np.concatenate([i.F[i.CV <= 0] for i in self.islands])
            lo, hi = P.min(axis=0), P.max(axis=0)
            span = np.where(hi > lo, hi - lo, 1.0)
            self.reference = hi + 0.1 * span
        return hypervolume(F, self.reference)

    def pareto(self) -> list[dict[str, Any]]:
        X, F = self.current_front()
        order = np.lexsort(F.T[::-1]) if len(F) else np.empty(0, dtype=int)
        genes = self.spec.genome.decode_rows(X[order])
        values = (F[order] * self.signs).tolist()
        return [{"genes": g, "values": v} for g, v in zip(genes, values, strict=True)]

    def status(self) -> dict[str, Any]:
        return {
            "study": self.id, "name": self.spec.name, "algorithm": self.spec.algorithm,
            "objectives": [o.name for o in self.spec.objectives],
            "generation": self.generation,
            "islands": [{"generation": i.generation, "evaluations": i.evaluations}
                        for i in self.islands],
            "evaluations": self.evaluations, "outstanding": len(self.outstanding),
            "failures": self.failures, "best": self.best, "hypervolume": self.last_hv,
            "reference": self.reported(self.reference) if self.reference is not None else None,
            "done": self.done, "reason": self.reason,
        }
