"""The autotune search: a GA over the knobs that must hold up on data it was not tuned on.

A workload of N calls is cut in three, in time order (`plan`):

- the held-out part (the last `held_out` share) is never replayed while tuning;
  it is scored only to report how the choice generalizes;
- the validation window (the end of the tuning part, as long as the held-out
  part or a third of the tuning part, whichever is shorter) picks the final
  configuration among the search's finalists, and nothing else;
- the search windows: up to `windows` windows of that length in the part before
  it, overlapping by half, each with at least half a window of warm-up before
  it. A candidate's fitness is its *minimum* over them, so a setting that only
  pays off in one stretch of the workload loses to one that holds up in all.

A daemon's future is not a copy of its past: new keys keep arriving, so the
data the memory tier must hold keeps growing, and a tier sized to the last
stretch of the past is too small for the next one. The tuner measures that
growth on the tuning part (bytes of distinct values touched, fitted as
a + b·ln(calls)), forecasts it for the middle of the coming period (as long as
the held-out part), and replays every window with the memory tier, and
Belady's reference, shrunk by the forecast growth since that window
(`Costs.growth`), while still counting the full tier as memory.

`evaluate_chunk` is a pure module-level function (knob maps + judge in,
per-window scores out) so the daemon can spread a generation over its pool.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from catalytic.plugins.evolve.algorithms import Algorithm
from catalytic.plugins.evolve.autotune.metrics import Reference, autonomy, normalized
from catalytic.plugins.evolve.autotune.model import CODECS, Costs, Knobs, replay
from catalytic.plugins.evolve.autotune.policies import POLICIES
from catalytic.plugins.evolve.autotune.workload import RecordedCall, footprint
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
FINALISTS = 10
"""Best distinct configurations of the search that the validation window chooses among."""

Window = tuple[int, int]


def knobs_of(values: dict[str, Any]) -> Knobs:
    return Knobs(**{k: values[k] for k in Knobs.__dataclass_fields__ if k in values})


def evaluate(calls: Sequence[RecordedCall], ref: Reference, costs: Costs, knobs: Knobs,
             weights: dict[str, float] | None = None, warm: int = 0
             ) -> tuple[float, dict[str, float]]:
    """Autonomy score and per-metric breakdown of one configuration (on calls[warm:])."""
    values = normalized(replay(calls, knobs, costs, warm), ref, costs)
    return autonomy(values, weights), values


@dataclass(frozen=True)
class Plan:
    """Where each part of a workload of `n` calls lies (the held-out part is calls[cut:])."""

    n: int
    cut: int
    windows: tuple[Window, ...]
    validation: Window


def plan(n: int, held_out: float = 0.3, windows: int = 3) -> Plan:
    cut = int(n * (1 - held_out))
    length = max(1, min(n - cut, cut // 3))
    v_start = cut - length
    step = max(1, length // 2)
    wins = [(e - length, e) for e in (v_start - i * step for i in range(windows))
            if e - length >= step]
    if not wins:
        wins = [(max(0, v_start - length), v_start)]
    return Plan(n, cut, tuple(sorted(wins)), (v_start, cut))


def forecast_growth(calls: Sequence[RecordedCall], p: Plan) -> Callable[[Window], float]:
    """Growth factor of the distinct-data footprint from a window to the coming period.

    Fits footprint = a + b·ln(calls so far) over the tuning part (from a tenth of
    it on) and compares its value in the middle of the coming period (after the
    tuning part, as long as the held-out part) with the measured footprint in
    the middle of the window. Never below 1.
    """
    fp = footprint(calls[:p.cut])
    t = np.arange(1, p.cut + 1, dtype=float)
    lo = max(1, p.cut // 10)
    if p.cut - lo < 2 or fp[-1] <= 0:
        return lambda w: 1.0
    b, a = np.polyfit(np.log(t[lo:]), fp[lo:], 1)
    ahead = float(a + b * np.log(p.cut + (p.n - p.cut) / 2))

    def growth(w: Window) -> float:
        now = float(fp[min(p.cut - 1, (w[0] + w[1]) // 2)])
        return max(1.0, ahead / now) if now > 0 else 1.0
    return growth


@dataclass(frozen=True)
class Judge:
    """Everything needed to score configurations on the tuning part (picklable)."""

    calls: tuple[RecordedCall, ...]
    """The tuning part only: the held-out part is not in here."""
    windows: tuple[Window, ...]
    costs: tuple[Costs, ...]
    """One per window, with its forecast growth."""
    refs: tuple[Reference, ...]
    validation: Window
    validation_costs: Costs
    validation_ref: Reference
    weights: dict[str, float] | None = None

    @classmethod
    def of(cls, calls: Sequence[RecordedCall], p: Plan, costs: Costs,
           weights: dict[str, float] | None = None) -> Judge:
        tune = tuple(calls[:p.cut])
        growth = forecast_growth(tune, p)
        wc = tuple(replace(costs, growth=growth(w)) for w in p.windows)
        refs = tuple(Reference.of(tune[:e], c, s) for (s, e), c in zip(p.windows, wc,
                                                                        strict=True))
        vc = replace(costs, growth=growth(p.validation))
        v_ref = Reference.of(tune, vc, p.validation[0])
        return cls(tune, p.windows, wc, refs, p.validation, vc, v_ref, weights)

    def window_scores(self, knobs: Knobs) -> list[float]:
        return [evaluate(self.calls[:e], ref, c, knobs, self.weights, s)[0]
                for (s, e), c, ref in zip(self.windows, self.costs, self.refs, strict=True)]

    def validate(self, knobs: Knobs) -> float:
        return evaluate(self.calls, self.validation_ref, self.validation_costs, knobs,
                        self.weights, self.validation[0])[0]


def fitness(window_scores: Sequence[float]) -> float:
    """What the search maximizes: the worst window (see the module docstring)."""
    return float(min(window_scores))


def evaluate_chunk(rows: list[dict[str, Any]], judge: Judge) -> list[list[float]]:
    """Per-window scores of several knob maps (one executor task)."""
    return [judge.window_scores(knobs_of(r)) for r in rows]


def validate_chunk(rows: list[dict[str, Any]], judge: Judge) -> list[float]:
    return [judge.validate(knobs_of(r)) for r in rows]


def strided(rows: Sequence[Any], chunks: int) -> list[list[Any]]:
    """`rows` dealt into `chunks` parts (row i to part i mod chunks), so each part of a
    generation gets a like mix of candidates; the later parts may be empty."""
    return [list(rows[i::chunks]) for i in range(chunks)]


def unstrided(parts: Sequence[Sequence[Any]], n: int, chunks: int) -> list[Any]:
    """The results of `strided`'s first parts, back in the rows' order."""
    out: list[Any] = [None] * n
    for i, part in enumerate(parts):
        out[i::chunks] = part
    return out


def key_of(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(round(v, 4) if isinstance(v, float) else v for v in row.values())


Mapper = Callable[[list[list[dict[str, Any]]]], list[list[list[float]]]]
Validator = Callable[[list[dict[str, Any]]], list[float]]


@dataclass
class Search:
    """GA state over the knob genome (maximizing the worst-window autonomy score)."""

    population: int = 100
    seed: int = 0
    start: Knobs | None = None
    genome: Genome = field(default_factory=lambda: Genome.from_specs(KNOB_GENES))
    history: list[float] = field(default_factory=list)
    """Best fitness so far, by generation."""
    picks: list[dict[str, Any]] = field(default_factory=list)
    """The validated choice after each generation."""

    def __post_init__(self) -> None:
        self.alg = Algorithm(self.genome, 1, self.population, seed=self.seed, kind="ga")
        self.archive: dict[tuple[Any, ...], tuple[float, dict[str, Any]]] = {}
        self.validated: dict[tuple[Any, ...], float] = {}

    def propose(self) -> tuple[np.ndarray, list[dict[str, Any]]]:
        """The next generation's configurations (the first holds the current one)."""
        X = self.alg.ask()
        if not self.history and self.start is not None:  # the current configuration competes
            X[0] = self.genome.encode(self.start.to_map())
        return X, [self.genome.decode(x) for x in X]

    def record(self, X: np.ndarray, rows: list[dict[str, Any]],
               window_scores: Sequence[Sequence[float]]) -> None:
        scores = np.array([fitness(w) for w in window_scores])
        self.alg.tell(X, -scores[:, None])
        for row, s in zip(rows, scores, strict=True):
            k = key_of(row)
            if k not in self.archive or s > self.archive[k][0]:
                self.archive[k] = (float(s), row)
        self.history.append(max(self.best_fitness, float(scores.max())))

    @property
    def best_fitness(self) -> float:
        return self.history[-1] if self.history else -1.0

    def finalists(self, m: int = FINALISTS) -> list[dict[str, Any]]:
        ranked = sorted(self.archive.values(), key=lambda t: -t[0])
        return [row for _, row in ranked[:m]]

    def unvalidated(self, m: int = FINALISTS) -> list[dict[str, Any]]:
        return [r for r in self.finalists(m) if key_of(r) not in self.validated]

    def choose(self, rows: list[dict[str, Any]], scores: Sequence[float],
               m: int = FINALISTS) -> dict[str, Any]:
        """Record validation scores and append the finalist that scores best on validation."""
        for r, s in zip(rows, scores, strict=True):
            self.validated[key_of(r)] = float(s)
        finals = self.finalists(m)
        pick = max(finals, key=lambda r: (self.validated[key_of(r)], self.archive[key_of(r)][0]))
        self.picks.append(pick)
        return pick

    def fitness_of(self, row: dict[str, Any]) -> float:
        return self.archive[key_of(row)][0]

    def validation_of(self, row: dict[str, Any]) -> float:
        return self.validated[key_of(row)]

    def run(self, generations: int, score_rows: Mapper, validate_rows: Validator,
            chunks: int = 2, on_generation: Callable[[int, dict[str, Any]], None] | None = None
            ) -> dict[str, Any]:
        """Evolve for `generations` generations after the initial population; the final pick."""
        for g in range(generations + 1):
            X, rows = self.propose()
            self.record(X, rows, unstrided(score_rows(strided(rows, chunks)), len(rows), chunks))
            todo = self.unvalidated()
            pick = self.choose(todo, validate_rows(todo) if todo else [])
            if on_generation is not None:
                on_generation(g, pick)
        return self.picks[-1]


def generations_to(history: Sequence[float], target: float) -> int | None:
    """First generation (0 = the initial population) whose score reached `target`."""
    for g, s in enumerate(history):
        if s >= target:
            return g
    return None
