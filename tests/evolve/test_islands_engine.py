"""Island migration, epochs and the ask/tell engine without a daemon."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from catalytic.daemon.store import open_store
from catalytic.plugins.evolve import engine
from catalytic.plugins.evolve.algorithms import Algorithm
from catalytic.plugins.evolve.engine import StudyState
from catalytic.plugins.evolve.islands import (
    Evaluator,
    migrants_count,
    migrate,
    neighbours,
    run_epoch,
)
from catalytic.plugins.evolve.problems import get_problem
from catalytic.plugins.evolve.spec import SpecError, parse_spec
from catalytic.plugins.evolve.store import MIGRATIONS, StudyStore, apply_op, dump


def zdt1_islands(n: int, pop: int = 20) -> list[Algorithm]:
    p = get_problem("zdt1")
    out = []
    for k in range(n):
        a = Algorithm(p.genome(), 2, pop, seed=k)
        run_epoch(a, Evaluator("zdt1"), 3)
        out.append(a)
    return out


def test_ring_migration_moves_the_best_into_the_next_island() -> None:
    islands = zdt1_islands(3)
    best0 = islands[0].emigrants(1)[0]
    before = [set(map(tuple, a.X.tolist())) for a in islands]
    moved = migrate(islands, 0.1, "ring")
    assert moved == 3 * migrants_count(20, 0.1) == 6
    after = [set(map(tuple, a.X.tolist())) for a in islands]
    # island 1 received rows that only island 0 had, and kept its size
    arrived = after[1] - before[1]
    assert arrived and arrived <= before[0]
    assert tuple(best0[0]) in after[1]
    assert all(len(a.X) == 20 for a in islands)
    assert neighbours(0, 3, "ring") == [2] and neighbours(1, 3, "full") == [0, 2]


def test_full_topology_takes_from_every_other_island() -> None:
    islands = zdt1_islands(3)
    before = [set(map(tuple, a.X.tolist())) for a in islands]
    migrate(islands, 0.1, "full")
    arrived = set(map(tuple, islands[0].X.tolist())) - before[0]
    assert arrived & before[1] and arrived & before[2]


def test_epoch_is_pure_and_deterministic() -> None:
    a = zdt1_islands(1)[0]
    copy1, copy2 = pickle.loads(pickle.dumps(a)), pickle.loads(pickle.dumps(a))
    r1 = run_epoch(copy1, Evaluator("zdt1"), 5)
    r2 = run_epoch(copy2, Evaluator("zdt1"), 5)
    assert np.array_equal(r1.X, r2.X) and r1.generation == a.generation + 5


def spec(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "genes": [{"name": "x", "type": "real", "low": 0, "high": 1},
                  {"name": "y", "type": "real", "low": 0, "high": 1}],
        "objectives": [{"name": "a"}, {"name": "b", "direction": "max"}],
        "population": 8, "seed": 5}
    base.update(kw)
    return base


def evaluate(genes: dict[str, float]) -> list[float]:
    return [genes["x"] ** 2 + genes["y"], 1 - (genes["x"] - 1) ** 2]


def test_study_ask_tell_bookkeeping() -> None:
    s = StudyState.new("t", parse_spec(spec()))
    got = s.ask(5)
    assert [cid for cid, _ in got] == [1, 2, 3, 4, 5]
    res = [{"id": cid, "values": evaluate(s.spec.genome.decode(x))} for cid, x in got[:3]]
    out = s.tell(s.check(res))
    assert out["told"] == 3 and s.evaluations == 3 and len(s.outstanding) == 2
    with pytest.raises(SpecError) as e:
        s.check([{"id": 1, "values": [0, 0]}])
    assert e.value.field == "results[0].id" and "already told" in str(e.value)
    with pytest.raises(SpecError, match="unknown"):
        s.check([{"id": 999, "values": [0, 0]}])
    with pytest.raises(SpecError) as e:
        s.check([{"id": 4, "values": [0]}])
    assert e.value.field == "results[0].values"
    with pytest.raises(SpecError, match="twice"):
        s.check([{"id": 4, "values": [0, 0]}, {"id": 4, "values": [0, 0]}])
    out = s.tell(s.check([{"id": 4, "values": [float("nan"), 1.0]},
                          {"id": 5, "failed": True}]))
    assert out["failed"] == [4, 5] and s.failures == 2


def test_generation_completes_only_when_a_batch_is_fully_told() -> None:
    s = StudyState.new("t", parse_spec(spec()))
    first = s.ask(8)
    second = s.ask(3)  # a second client while the first batch is out gets a new batch
    assert len({c for c, _ in first + second}) == 11
    s.tell(s.check([{"id": c, "values": evaluate(s.spec.genome.decode(x))} for c, x in first]))
    assert s.generation == 0 and s.islands[0].evaluations == 8  # initial population merged
    rest = s.ask(5)
    s.tell(s.check([{"id": c, "values": evaluate(s.spec.genome.decode(x))}
                    for c, x in second + rest]))
    assert s.generation == 1
    # maximized objective comes back in its own sign
    assert all(v["values"][1] <= 1.0 for v in s.pareto())


def test_termination_by_generations_and_evaluations() -> None:
    s = StudyState.new("t", parse_spec(spec(termination={"generations": 2})))
    while not s.done:
        got = s.ask(8)
        assert got, "a study that is not done must hand out candidates"
        s.tell(s.check([{"id": c, "values": evaluate(s.spec.genome.decode(x))}
                        for c, x in got]))
    assert s.reason == "generations" and s.ask(4) == []
    s = StudyState.new("t", parse_spec(spec(termination={"evaluations": 10})))
    assert len(s.ask(50)) == 10


@pytest.mark.parametrize("bad, field", [
    ({"objectives": []}, "objectives"),
    ({"objectives": [{"name": "a", "direction": "up"}]}, "objectives[0].direction"),
    ({"genes": [{"name": "x", "type": "real", "low": 2, "high": 1}]}, "genes[0].high"),
    ({"genes": [{"name": "x", "type": "tensor"}]}, "genes[0].type"),
    ({"population": 7}, "population"),
    ({"population": 2}, "population"),
    ({"algorithm": "ga"}, "algorithm"),
    ({"weights": [1]}, "weights"),
    ({"termination": {"forever": 1}}, "termination.forever"),
])
def test_bad_specs_name_their_field(bad: dict[str, object], field: str) -> None:
    with pytest.raises(SpecError) as e:
        parse_spec(spec(**bad))
    assert e.value.field == field


def test_store_replays_journal_exactly(tmp_path: Path) -> None:
    store = StudyStore(open_store(tmp_path / "e.sqlite3", MIGRATIONS))
    s = StudyState.new("j", parse_spec(spec(islands=2, migration_interval=1)))
    store.create("j", "", s.spec.to_map(), dump(s))
    for k in range(9):
        got = apply_op(s, ["ask", 5])
        store.journal("j", s.seq, ["ask", 5])
        res = [{"id": c, "values": evaluate(s.spec.genome.decode(x))} for c, x in got]
        if k % 3 == 0:
            res = res[:-1]  # leave one outstanding now and then
        out = apply_op(s, ["tell", res])
        store.journal("j", s.seq, ["tell", res])
        if out["generations_completed"]:
            store.checkpoint("j", dump(s), s.seq)
    store.close()
    back = StudyStore(open_store(tmp_path / "e.sqlite3", MIGRATIONS)).load("j")
    assert back.status() == s.status()
    assert sorted(back.outstanding) == sorted(s.outstanding)
    assert back.next_id == s.next_id
    for a, b in zip(back.islands, s.islands, strict=True):
        assert np.array_equal(a.X, b.X)


def test_store_loads_a_checkpoint_written_before_the_rename(tmp_path: Path) -> None:
    """Checkpoints from before `engine.Study` became `StudyState` still load."""
    s = StudyState.new("old", parse_spec(spec()))
    apply_op(s, ["ask", 3])
    StudyState.__qualname__ = "Study"  # pickle it under the old name
    engine.Study = StudyState  # type: ignore[attr-defined]
    try:
        old_blob = dump(s)
    finally:
        StudyState.__qualname__ = "StudyState"
        del engine.Study  # type: ignore[attr-defined]
    assert b"StudyState" not in old_blob
    with pytest.raises(AttributeError):
        pickle.loads(old_blob)  # the old name alone no longer resolves
    store = StudyStore(open_store(tmp_path / "e.sqlite3", MIGRATIONS))
    store.create("old", "", s.spec.to_map(), old_blob)
    back = store.load("old")
    assert isinstance(back, StudyState) and back.status() == s.status()
    store.close()
