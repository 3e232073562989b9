"""The validated description of a study (what `evolve.create` accepts).

Validation raises `SpecError` naming the offending field, which the plugin
turns into -32602; nothing here knows about RPC.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from catalytic.plugins.evolve.genome import Genome, GenomeError

ALGORITHMS = ("auto", "nsga2", "nsga3", "ga", "cmaes")
TOPOLOGIES = ("ring", "full")


class SpecError(ValueError):
    """A study description is unusable; `field` names what was wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def __reduce__(self) -> tuple[type[SpecError], tuple[str, str]]:
        """Picklable with both arguments (it crosses from executor workers)."""
        return (type(self), (self.field, self.message))


@dataclass(frozen=True)
class Objective:
    name: str
    direction: str  # "min" or "max"

    @property
    def sign(self) -> float:
        """Multiply a reported value by this to get the minimized form."""
        return 1.0 if self.direction == "min" else -1.0


@dataclass(frozen=True)
class Termination:
    generations: int | None = None
    evaluations: int | None = None
    target: float | None = None
    """Stop once the best weighted score (minimized form) is ≤ target."""
    stall: int | None = None
    """Stop after this many generations without improvement of the best score."""

    def spec(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class StudySpec:
    genome: Genome
    objectives: tuple[Objective, ...]
    algorithm: str = "nsga2"
    population: int = 100
    islands: int = 1
    seed: int = 0
    weights: tuple[float, ...] = ()
    termination: Termination = field(default_factory=Termination)
    migration_interval: int = 10
    migration_rate: float = 0.05
    topology: str = "ring"
    reference: tuple[float, ...] | None = None
    """Hypervolume reference point in the reported (not minimized) form."""
    problem: str | None = None
    name: str = ""

    @property
    def n_obj(self) -> int:
        return len(self.objectives)

    def to_map(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "genes": self.genome.specs(),
            "objectives": [{"name": o.name, "direction": o.direction} for o in self.objectives],
            "algorithm": self.algorithm, "population": self.population, "islands": self.islands,
            "seed": self.seed, "weights": list(self.weights),
            "termination": self.termination.spec(),
            "migration_interval": self.migration_interval,
            "migration_rate": self.migration_rate, "topology": self.topology,
            "reference": list(self.reference) if self.reference else None,
            "problem": self.problem,
        }


def _int(field: str, value: Any, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(field, f"must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        upper = f" and ≤ {high}" if high is not None else ""
        raise SpecError(field, f"must be ≥ {low}{upper}, got {value}")
    return value


def _float(field: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SpecError(field, f"must be a finite number, got {value!r}")
    return float(value)


def parse_objectives(value: Any) -> tuple[Objective, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str | bytes) or not value:
        raise SpecError("objectives", "at least one objective {name, direction} is needed")
    out = []
    for i, o in enumerate(value):
        if isinstance(o, str):
            o = {"name": o}
        if not isinstance(o, Mapping) or not isinstance(o.get("name"), str) or not o["name"]:
            raise SpecError(f"objectives[{i}].name", "must be a non-empty string")
        direction = o.get("direction", "min")
        if direction not in ("min", "max"):
            raise SpecError(f"objectives[{i}].direction",
                            f"must be 'min' or 'max', got {direction!r}")
        out.append(Objective(o["name"], direction))
    names = [o.name for o in out]
    if len(set(names)) != len(names):
        raise SpecError("objectives", f"duplicate objective names: {names}")
    return tuple(out)


def parse_spec(p: Mapping[str, Any], default_islands: int = 1) -> StudySpec:
    """Validate the params of `evolve.create` into a StudySpec."""
    try:
        genome = Genome.from_specs(p.get("genes"))
    except GenomeError as e:
        raise SpecError(e.field, str(e).split(": ", 1)[-1]) from None
    objectives = parse_objectives(p.get("objectives"))
    n_obj = len(objectives)
    algorithm = p.get("algorithm") or "auto"
    if algorithm not in ALGORITHMS:
        raise SpecError("algorithm", f"unknown {algorithm!r}; allowed: {', '.join(ALGORITHMS)}")
    if algorithm == "auto":
        algorithm = "ga" if n_obj == 1 else ("nsga2" if n_obj == 2 else "nsga3")
    if algorithm in ("ga", "cmaes") and n_obj != 1:
        raise SpecError("algorithm",
                        f"{algorithm} is single-objective but {n_obj} objectives given")
    if algorithm == "cmaes" and not genome.real.all():
        raise SpecError("algorithm", "cmaes needs every gene to be real")
    population = _int("population", p.get("population", 100), 4, 100_000)
    if algorithm != "cmaes" and population % 2:
        raise SpecError("population", f"must be even (offspring come in pairs), got {population}")
    islands = _int("islands", p.get("islands") or default_islands, 1, 256)
    seed = _int("seed", p.get("seed", 0), 0, 2**63 - 1)
    weights: tuple[float, ...] = ()
    if p.get("weights") is not None:
        w = p["weights"]
        if not isinstance(w, Sequence) or len(w) != n_obj:
            raise SpecError("weights", f"must be a list of {n_obj} numbers (one per objective)")
        weights = tuple(_float(f"weights[{i}]", x) for i, x in enumerate(w))
    term = p.get("termination") or {}
    if not isinstance(term, Mapping):
        raise SpecError("termination", "must be a map")
    unknown = set(term) - {"generations", "evaluations", "target", "stall"}
    if unknown:
        raise SpecError(f"termination.{sorted(unknown)[0]}",
                        "unknown; allowed: generations, evaluations, target, stall")
    termination = Termination(
        generations=_int("termination.generations", term["generations"], 1)
        if term.get("generations") is not None else None,
        evaluations=_int("termination.evaluations", term["evaluations"], 1)
        if term.get("evaluations") is not None else None,
        target=_float("termination.target", term["target"])
        if term.get("target") is not None else None,
        stall=_int("termination.stall", term["stall"], 1)
        if term.get("stall") is not None else None,
    )
    interval = _int("migration_interval", p.get("migration_interval", 10), 1)
    rate = _float("migration_rate", p.get("migration_rate", 0.05))
    if not 0 <= rate <= 0.5:
        raise SpecError("migration_rate", f"must be within 0..0.5, got {rate}")
    topology = p.get("topology", "ring")
    if topology not in TOPOLOGIES:
        raise SpecError("topology", f"must be 'ring' or 'full', got {topology!r}")
    reference = None
    if p.get("reference") is not None:
        r = p["reference"]
        if not isinstance(r, Sequence) or len(r) != n_obj:
            raise SpecError("reference", f"must be a list of {n_obj} numbers")
        reference = tuple(_float(f"reference[{i}]", x) for i, x in enumerate(r))
    name = p.get("name") or ""
    if not isinstance(name, str):
        raise SpecError("name", "must be a string")
    return StudySpec(genome, objectives, algorithm, population, islands, seed, weights,
                     termination, interval, rate, topology, reference, p.get("problem"), name)
