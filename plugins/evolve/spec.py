"""The validated description of a study (what `evolve.create` accepts).

Its fields are declared once, as `Param`s: the dispatcher checks `evolve.create`'s
params with the same declarations, and `parse_spec` checks every other route in
(`evolve.run`, restored studies). A bad field raises `SpecError`, the shared field
shape `<field> = <value> (<where>): expected <what>` that the plugin answers as -32602;
nothing here knows about RPC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from catalytic.plugins.base import Param, read_params
from catalytic.plugins.evolve.genome import Genome, GenomeError
from catalytic.protocol.fields import FieldError

ALGORITHMS = ("auto", "nsga2", "nsga3", "ga", "cmaes")
TOPOLOGIES = ("ring", "full")
WHERE = "evolve.create"

FIELDS = (
    Param("genes", "list", items="map", doc="[{name, type: real|int|categorical|bool, "
          "low, high | choices}, ...]"),
    Param("objectives", "list", doc="[{name, direction: min|max}, ...]"),
    Param("population", "int", required=False, default=100, min=4, max=100_000,
          doc="Per island; even unless the algorithm is cmaes."),
    Param("seed", "int", required=False, default=0, min=0, max=2**63 - 1),
    Param("algorithm", "str", required=False, default="auto", choices=ALGORITHMS),
    Param("islands", "int", required=False, default=1, min=1, max=256),
    Param("weights", "list", required=False, items="number", nullable=True,
          doc="One per objective, for the scalar score of evolve.best."),
    Param("termination", "map", required=False, nullable=True,
          doc="{generations, evaluations, target, stall}"),
    Param("migration_interval", "int", required=False, default=10, min=1),
    Param("migration_rate", "float", required=False, default=0.05, min=0, max=0.5),
    Param("topology", "str", required=False, default="ring", choices=TOPOLOGIES),
    Param("reference", "list", required=False, items="number", nullable=True,
          doc="Hypervolume reference point (default: from the first population)."),
    Param("name", "str", required=False, default=""),
)
"""The fields of a study as `evolve.create` takes them."""

_BY_NAME = {p.name: p for p in FIELDS}


def spec_param(name: str, **changes: Any) -> Param:
    """One of FIELDS as a verb declares it, with what that verb takes differently
    (`evolve.run` leaves `islands` unset to mean the configured count)."""
    return replace(_BY_NAME[name], **changes)


PROBLEM = Param("problem", "str", required=False, nullable=True)
"""Set by `evolve.run` for its built-in problems; not a param of `evolve.create`."""

TERMINATION = (
    Param("generations", "int", required=False, min=1, nullable=True),
    Param("evaluations", "int", required=False, min=1, nullable=True),
    Param("target", "float", required=False, nullable=True),
    Param("stall", "int", required=False, min=1, nullable=True),
)


class SpecError(FieldError):
    """A study description or a `tell` payload is unusable: the shared field error,
    raised by evolve's own checks (`where` is the verb, e.g. evolve.tell)."""


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


def parse_objectives(value: Any) -> tuple[Objective, ...]:
    """The objectives: names (or {name, direction} maps), distinct, at least one."""
    if not isinstance(value, Sequence) or isinstance(value, str | bytes) or not value:
        raise SpecError("objectives", value, WHERE, "at least one objective {name, direction}")
    out = []
    for i, o in enumerate(value):
        if isinstance(o, str):
            o = {"name": o}
        if not isinstance(o, Mapping) or not isinstance(o.get("name"), str) or not o["name"]:
            got = o.get("name") if isinstance(o, Mapping) else o
            raise SpecError(f"objectives[{i}].name", got, WHERE, "a non-empty string")
        direction = o.get("direction", "min")
        if direction not in ("min", "max"):
            raise SpecError(f"objectives[{i}].direction", direction, WHERE, "'min' or 'max'")
        out.append(Objective(o["name"], direction))
    names = [o.name for o in out]
    if len(set(names)) != len(names):
        raise SpecError("objectives", names, WHERE, "distinct objective names")
    return tuple(out)


def _genome(genes: Any) -> Genome:
    try:
        return Genome.from_specs(genes)
    except GenomeError as e:
        raise SpecError(e.field, e.value, WHERE, e.expected) from None


def _algorithm(asked: str, n_obj: int, genome: Genome) -> str:
    """The algorithm to run: `auto` picked by the number of objectives, and the choice
    checked against the objectives and genes."""
    algorithm = asked
    if algorithm == "auto":
        algorithm = "ga" if n_obj == 1 else ("nsga2" if n_obj == 2 else "nsga3")
    if algorithm in ("ga", "cmaes") and n_obj != 1:
        raise SpecError("algorithm", asked, WHERE,
                        f"a multi-objective algorithm for {n_obj} objectives (nsga2, nsga3)")
    if algorithm == "cmaes" and not genome.real.all():
        raise SpecError("algorithm", asked, WHERE,
                        "an algorithm other than cmaes unless every gene is real")
    return algorithm


def _per_objective(name: str, value: list[Any] | None, n_obj: int) -> tuple[float, ...] | None:
    """A vector with one number per objective (weights, reference point)."""
    if value is None:
        return None
    if len(value) != n_obj:
        raise SpecError(name, value, WHERE, f"a list of {n_obj} numbers (one per objective)")
    return tuple(float(x) for x in value)


def _termination(value: Mapping[str, Any] | None) -> Termination:
    got = read_params(TERMINATION, value or {}, WHERE, prefix="termination.")
    return Termination(**got)


def parse_spec(p: Mapping[str, Any], default_islands: int = 1) -> StudySpec:
    """Validate the params of `evolve.create` into a StudySpec: each field against its
    declaration, then the checks that span fields."""
    given = {k: v for k, v in p.items() if v is not None}
    if not given.get("islands"):
        given["islands"] = default_islands
    try:
        v = read_params((*FIELDS, PROBLEM), given, WHERE, strict=False)
        termination = _termination(v["termination"])
    except FieldError as e:
        raise SpecError(e.field, e.value, e.where, e.expected) from None
    genome = _genome(v["genes"])
    objectives = parse_objectives(v["objectives"])
    n_obj = len(objectives)
    algorithm = _algorithm(v["algorithm"], n_obj, genome)
    population = v["population"]
    if algorithm != "cmaes" and population % 2:
        raise SpecError("population", population, WHERE,
                        "an even number (offspring come in pairs)")
    return StudySpec(genome, objectives, algorithm, population, v["islands"], v["seed"],
                     _per_objective("weights", v["weights"], n_obj) or (), termination,
                     v["migration_interval"], v["migration_rate"], v["topology"],
                     _per_objective("reference", v["reference"], n_obj), v["problem"],
                     v["name"])
