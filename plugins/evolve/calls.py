"""`ask`, `tell` and `pareto` applied to a study: inline when small, in a worker when not.

A generation's end (survival, non-dominated sort over every island, hypervolume,
checkpoint) costs O(population²) and took seconds at population 4,000; handing
out or taking back thousands of candidates costs tens of milliseconds (an ask's
answer is therefore encoded where it is built). Neither
may run on the event loop. Each call is therefore a module-level function of
(study, arguments) returning the study after the call: the plugin runs it
inline for small studies (it then mutates and returns the same object) and in
`ctx.executor` otherwise (it then returns a changed copy, which the plugin
adopts). Both paths run the same code, so a study stays deterministic and its
journal replays the same way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgpack
import numpy as np

from catalytic.plugins.evolve.engine import StudyState
from catalytic.plugins.evolve.islands import Optimizer, migrate
from catalytic.plugins.evolve.store import dump
from catalytic.protocol import Packed

INLINE_ITEMS = 256
"""Candidates asked or results told in one call that are still handled on the loop."""
INLINE_POPULATION = 256
"""Population (all islands) up to which a generation's end is still computed on the loop."""


def population(study: StudyState) -> int:
    return study.spec.population * len(study.islands)


def ask_is_heavy(study: StudyState, n: int) -> bool:
    if n > INLINE_ITEMS:
        return True
    # a new batch is bred from the whole island (selection, variation, repair)
    return study.spec.population > INLINE_POPULATION and not all(study.pending)


def tell_is_heavy(study: StudyState, results: Any) -> bool:
    if not isinstance(results, Sequence) or isinstance(results, str | bytes):
        return False  # refused by `check` at once
    if len(results) > INLINE_ITEMS:
        return True
    return population(study) > INLINE_POPULATION and completes_batch(study, results)


def completes_batch(study: StudyState, results: Sequence[Any]) -> bool:
    """Whether these results would complete a batch (and so end a generation)."""
    told: Counter[int] = Counter()
    for r in results:
        cid = r.get("id") if isinstance(r, Mapping) else None
        where = study.outstanding.get(cid) if isinstance(cid, int) else None
        if where is not None:
            told[where[0]] += 1
    return any(study.batches[bid].left <= k for bid, k in told.items())


def ask_job(study: StudyState, n: int) -> tuple[StudyState, Asked]:
    """Hand out up to n candidates; the study's `seq` counts the call when any were given.

    The candidates come back already encoded as msgpack (`[{id, genes}, ..]`): built
    and packed here, in a worker for a large ask, they cost the daemon's loop only
    the handing of one bytes object to the socket (`ask_answer`). Decoded and packed
    on the loop, 4,000 of them held it for about 15 ms."""
    got = study.ask(n)
    if got:
        study.seq += 1
    ids = [cid for cid, _ in got]
    X = np.array([x for _, x in got]) if got else np.empty((0, study.spec.genome.size))
    genes = study.spec.genome.decode_rows(X)
    wire = _packer().pack([{"id": cid, "genes": g} for cid, g in zip(ids, genes, strict=True)])
    return study, Asked(ids, wire, study.done, study.generation)


@dataclass
class Asked:
    """What `ask_job` handed out."""

    ids: list[int]
    candidates: bytes
    """`[{id, genes}, ..]` as msgpack."""
    done: bool
    generation: int


def ask_answer(got: Asked) -> Packed:
    """`evolve.ask`'s answer `{candidates, done, generation}`, with the candidates' bytes
    as they came (no copy, no decoding)."""
    packer = _packer()
    pack = packer.pack
    return Packed([packer.pack_map_header(3) + pack("candidates"), got.candidates,
                   pack("done") + pack(got.done) + pack("generation") + pack(got.generation)])


def _packer() -> msgpack.Packer:
    """Encodes as the daemon's connection does."""
    return msgpack.Packer(use_bin_type=True, unicode_errors="surrogateescape")


def tell_job(study: StudyState, results: Any) -> tuple[StudyState, dict[str, Any], bytes | None]:
    """Record results (SpecError before any change if they are bad); with the checkpoint
    to save when a generation completed or the study finished."""
    out = study.tell(study.check(results))
    study.seq += 1
    blob = dump(study) if out["generations_completed"] or study.done else None
    out.update(generation=study.generation, done=study.done, evaluations=study.evaluations)
    return study, out, blob


def front_job(study: StudyState) -> tuple[np.ndarray, np.ndarray]:
    """The front over every island (for a study whose checkpoint predates the cache)."""
    return study.current_front()


def front_is_heavy(study: StudyState) -> bool:
    return study.front is None and population(study) > INLINE_POPULATION


def pareto_slices(study: StudyState, front: tuple[np.ndarray, np.ndarray],
                  slice_rows: int = INLINE_ITEMS) -> Iterator[list[dict[str, Any]]]:
    """`pareto`'s `{genes, values}` rows (lexicographic by objective), a slice at a time."""
    X, F = front
    order = np.lexsort(F.T[::-1]) if len(F) else np.empty(0, dtype=int)
    for start in range(0, len(order), slice_rows):
        rows = order[start:start + slice_rows]
        genes = study.spec.genome.decode_rows(X[rows])
        values = (F[rows] * study.signs).tolist()
        yield [{"genes": g, "values": v} for g, v in zip(genes, values, strict=True)]


def settle_epoch(study: StudyState, islands: Sequence[Optimizer]) -> tuple[StudyState, bytes]:
    """Adopt the islands an epoch of `evolve.run` returned: count their evaluations,
    migrate, end the generation; with the checkpoint to save."""
    before = sum(i.evaluations for i in study.islands)
    study.islands = list(islands)
    study.evaluations += sum(i.evaluations for i in study.islands) - before
    if len(study.islands) > 1 and study.generation % study.spec.migration_interval == 0:
        migrate(study.islands, study.spec.migration_rate, study.spec.topology)
    study.end_generation()
    return study, dump(study)


def settle_is_heavy(study: StudyState) -> bool:
    return population(study) > INLINE_POPULATION
