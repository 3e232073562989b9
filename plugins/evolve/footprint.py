"""How much memory a study will hold, estimated from its spec before anything is allocated.

`evolve.create`, `ask` and `run` ask the daemon's memory admission (`ctx.admit`) for
these bytes first, and a study whose rebuild at start-up would not fit is left on
disk with a log line instead of being loaded blindly. The figures follow the
arrays the engine really makes (float64 everywhere):

- every island keeps its population and a batch of offspring, and survival copies
  both: about four rows of `genes + objectives + 2` floats per individual;
- multi-objective survival sorts parents and offspring together with boolean
  dominance matrices (`sorting.dominance_matrix`: about six n² byte arrays alive at
  once, n = 2 × population), and the front over all islands sorts every island's
  rows the same way;
- CMA-ES keeps a few genes × genes matrices per island.
"""

from __future__ import annotations

from typing import Any

from catalytic.plugins.evolve.spec import StudySpec

FLOAT = 8
ROW_COPIES = 4
SORT_BYTES = 6
"""Bytes per pair of rows while sorting (le, lt, the comparison temporaries, D, CV)."""
CMA_MATRICES = 4
ASKED_BYTES = 120
"""A handed-out candidate's gene as a msgpack-ready Python object (key, float, dict slot)."""


def kept_bytes(genes: int, objectives: int, population: int, islands: int,
               algorithm: str) -> int:
    """What a study holds between calls (its islands' rows, CMA-ES matrices)."""
    keep = population * islands * (genes + objectives + 2) * FLOAT * ROW_COPIES
    if algorithm == "cmaes":
        keep += islands * genes * genes * FLOAT * CMA_MATRICES
    return keep


def step_bytes(objectives: int, population: int, islands: int) -> int:
    """The transient peak of a generation's end (dominance matrices), 0 for one objective."""
    if objectives < 2:
        return 0
    return SORT_BYTES * max((2 * population) ** 2, (population * islands) ** 2)


def study_bytes(spec: StudySpec) -> int:
    """Peak bytes of a study: what it keeps plus the largest generation step."""
    return kept_bytes(spec.genome.size, spec.n_obj, spec.population, spec.islands,
                      spec.algorithm) + step_bytes(spec.n_obj, spec.population, spec.islands)


def stored_study_bytes(spec: dict[str, Any]) -> int:
    """`study_bytes` of a spec as the store keeps it (`StudySpec.to_map()`), without
    validating it again (a study of an earlier release may not parse)."""
    genes = len(spec.get("genes") or ()) or 1
    objectives = len(spec.get("objectives") or ()) or 1
    population = int(spec.get("population") or 1)
    islands = int(spec.get("islands") or 1)
    return kept_bytes(genes, objectives, population, islands, str(spec.get("algorithm"))) \
        + step_bytes(objectives, population, islands)


def ask_bytes(spec: StudySpec, n: int) -> int:
    """The answer to `evolve.ask` of n candidates (decoded, before msgpack)."""
    return n * (spec.genome.size + 2) * ASKED_BYTES
