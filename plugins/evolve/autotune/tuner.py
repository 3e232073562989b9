"""The autotune search: a GA over the knobs, scored by replaying the tuning part of a workload.

`evaluate_chunk` is a pure module-level function (knob maps + workload in,
scores out) so the daemon can spread a generation over its process pool.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from catalytic.plugins.evolve.algorithms import Algorithm
from catalytic.plugins.evolve.autotune.metrics import Reference, autonomy, normalized
from catalytic.plugins.evolve.autotune.model import CODECS, Costs, Knobs, replay
from catalytic.plugins.evolve.autotune.policies import POLICIES
from catalytic.plugins.evolve.autotune.workload import Call
from catalytic.plugins.evolve.genome import Genome

KNOB_GENES: list[dict[str, Any]] = [
    {"name": "policy", "type": "categorical", "choices": list(POLICIES)},
    {"name": "memory_fraction", "type": "real", "low": 0.05, "high": 0.9},
    {"name": "prefetch_depth", "type": "int", "low": 0, "high": 8},
    {"name": "prefetch_budget", "type": "real", "low": 0.0, "high": 0.5},
    {"name": "codec", "type": "categorical", "choices": list(CODECS)},
    {"name": "level", "type": "int", "low": 1, "high": 19},
    {"name": "prd_parallel_threshold", "type": "int", "low": 1, "high": 256},
    {"name": "workers", "type": "int", "low": 1, "high": 8},
    {"name": "gc_gen0", "type": "int", "low": 100, "high": 50_000},
]


def knobs_of(values: dict[str, Any]) -> Knobs:
    return Knobs(**{k: values[k] for k in Knobs.__dataclass_fields__ if k in values})


def evaluate(calls: list[Call], ref: Reference, costs: Costs, knobs: Knobs,
             weights: dict[str, float] | None = None, warm: int = 0
             ) -> tuple[float, dict[str, float]]:
    """Autonomy score and per-metric breakdown of one configuration (on calls[warm:])."""
    values = normalized(replay(calls, knobs, costs, warm), ref, costs)
    return autonomy(values, weights), values


def evaluate_chunk(rows: list[dict[str, Any]], calls: list[Call], ref: Reference, costs: Costs,
                   weights: dict[str, float] | None = None, warm: int = 0) -> list[float]:
    """Scores of several knob maps (one executor task)."""
    return [evaluate(calls, ref, costs, knobs_of(r), weights, warm)[0] for r in rows]


TUNE_WARM = 0.7
"""Tuning scores the last 30 % of the tuning part, after the first 70 % as warm-up,
which mirrors how the held-out part is judged (after everything before it)."""


def tuning_warm(cut: int) -> int:
    return int(cut * TUNE_WARM)


Mapper = Callable[[list[list[dict[str, Any]]]], list[list[float]]]


@dataclass
class Search:
    """GA state over the knob genome (maximizing the autonomy score)."""

    population: int = 100
    seed: int = 0
    start: Knobs | None = None
    genome: Genome = field(default_factory=lambda: Genome.from_specs(KNOB_GENES))
    history: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.alg = Algorithm(self.genome, 1, self.population, seed=self.seed, kind="ga")
        self.best_score = -1.0
        self.best: dict[str, Any] | None = None

    def propose(self) -> tuple[np.ndarray, list[dict[str, Any]]]:
        """The next generation's configurations (the first holds the current one)."""
        X = self.alg.ask()
        if not self.history and self.start is not None:  # the current configuration competes
            X[0] = self.genome.encode(self.start.to_map())
        return X, [self.genome.decode(x) for x in X]

    def record(self, X: np.ndarray, rows: list[dict[str, Any]], scores: np.ndarray) -> None:
        self.alg.tell(X, -np.asarray(scores, dtype=float)[:, None])
        k = int(np.argmax(scores))
        if scores[k] > self.best_score:
            self.best_score, self.best = float(scores[k]), rows[k]
        self.history.append(self.best_score)

    def run(self, generations: int, score_rows: Mapper, chunks: int = 2,
            target: float | None = None, on_generation: Callable[[int, float], None] | None = None
            ) -> None:
        """Evolve for up to `generations` generations after the initial population."""
        for g in range(generations + 1):
            X, rows = self.propose()
            scored = score_rows([rows[i::chunks] for i in range(chunks)])
            scores = np.empty(len(rows))
            for i in range(chunks):
                scores[i::chunks] = scored[i]
            self.record(X, rows, scores)
            if on_generation is not None:
                on_generation(g, self.best_score)
            if target is not None and self.best_score >= target:
                break


def generations_to(history: Sequence[float], target: float) -> int | None:
    """First generation (0 = the initial population) whose best reached `target`."""
    for g, s in enumerate(history):
        if s >= target:
            return g
    return None
