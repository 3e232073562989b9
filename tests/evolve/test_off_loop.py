"""Large asks and tells run in a worker and give exactly the study that inline calls give.

A population above `calls.INLINE_POPULATION` sends every generation's end (and any
call of more than `INLINE_ITEMS` candidates) to the executor; the study that comes
back replaces the daemon's. The same calls applied in this process, inline, must
give the same front, best and hypervolume, and a SIGKILL right after the answers
must replay to the same state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgpack
import pytest

from catalytic.client import InvalidParams
from catalytic.plugins.evolve import calls
from catalytic.plugins.evolve.engine import StudyState
from catalytic.plugins.evolve.spec import SpecError, parse_spec

MakeDaemon = Callable[..., Any]

POP = calls.INLINE_POPULATION + 44
SPEC = {"genes": [{"name": f"x{i}", "type": "real", "low": 0, "high": 1} for i in range(6)]
        + [{"name": "k", "type": "int", "low": 0, "high": 4}],
        "objectives": [{"name": "a", "direction": "min"}, {"name": "b", "direction": "min"},
                       {"name": "c", "direction": "max"}],
        "population": POP, "seed": 3, "algorithm": "nsga2"}
DEFAULTS = {"migration_interval": 10, "migration_rate": 0.05, "topology": "ring"}


def values(genes: dict[str, Any]) -> list[float]:
    x = [genes[f"x{i}"] for i in range(6)]
    return [x[0] + 0.1 * genes["k"], 1 - x[0] ** 2 + x[1], x[2] - x[3] * x[4]]


def results(cands: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": k["id"], "values": values(k["genes"])} for k in cands]


def drive(ask: Callable[[int], dict[str, Any]], tell: Callable[[list[Any]], dict[str, Any]],
          generations: int) -> None:
    for _ in range(generations):
        out = tell(results(ask(POP)["candidates"]))
        assert out["generations_completed"] == 1
    part = ask(50)["candidates"]  # a batch left half told
    tell(results(part[:20]))


def test_worker_calls_equal_inline_calls_and_survive_sigkill(make_daemon: MakeDaemon) -> None:
    d = make_daemon({"daemon": {"plugins": ["evolve"], "workers": 2}})
    with d.client(timeout=120) as c:
        sid = c.call("evolve.create", SPEC)["study"]
        drive(lambda n: c.call("evolve.ask", study=sid, n=n),
              lambda r: c.call("evolve.tell", study=sid, results=r), generations=3)
        remote = c.call("evolve.pareto", study=sid)
        status = c.call("evolve.status", study=sid)
        executed = c.call("system.stats")["executor"]["completed"]
    assert executed >= 6  # the asks and tells above went to the workers

    local = StudyState.new(sid, parse_spec({**SPEC, **DEFAULTS}))
    answers: list[Any] = []

    def ask(n: int) -> dict[str, Any]:
        _, got = calls.ask_job(local, n)
        answer: dict[str, Any] = calls.ask_answer(got).decode()
        return answer

    def tell(r: list[Any]) -> dict[str, Any]:
        _, out, _ = calls.tell_job(local, r)
        answers.append(out)
        return out

    drive(ask, tell, generations=3)
    assert remote["front"] == [r for part in calls.pareto_slices(local, local.current_front())
                               for r in part]
    assert remote["front"] == local.pareto()
    assert status["best"] == local.best
    assert status["hypervolume"] == pytest.approx(local.last_hv, rel=1e-12)
    assert status["outstanding"] == len(local.outstanding) == 30

    d.kill()
    d.start()
    with d.client(timeout=120) as c:
        again = c.call("evolve.status", study=sid)
        assert again["best"] == status["best"]
        assert again["generation"] == status["generation"] == local.generation == 2
        assert again["outstanding"] == 30 and again["evaluations"] == status["evaluations"]
        assert c.call("evolve.pareto", study=sid)["front"] == remote["front"]


def test_bad_results_from_a_worker_name_the_field(make_daemon: MakeDaemon) -> None:
    d = make_daemon({"daemon": {"plugins": ["evolve"], "workers": 2}})
    with d.client(timeout=120) as c:
        sid = c.call("evolve.create", SPEC)["study"]
        cands = c.call("evolve.ask", study=sid, n=POP)["candidates"]
        told = results(cands)
        told[-1]["values"] = [1.0, "x", 2.0]
        with pytest.raises(InvalidParams, match=rf"results\[{POP - 1}\]\.values"):
            c.call("evolve.tell", study=sid, results=told)
        # nothing was applied: the whole generation can still be told
        out = c.call("evolve.tell", study=sid, results=results(cands))
        assert out["generations_completed"] == 1 and out["told"] == POP


def test_spec_error_survives_pickling() -> None:
    import pickle

    sent = SpecError("results[3].id", 7, "evolve.tell", "a candidate still out")
    e = pickle.loads(pickle.dumps(sent))
    assert isinstance(e, SpecError) and e.field == "results[3].id" and e.value == 7
    assert str(e) == "results[3].id = 7 (evolve.tell): expected a candidate still out"


def test_an_ask_answer_is_encoded_where_it_is_built() -> None:
    """The candidates leave `ask_job` as msgpack; the answer around them is exactly what
    packing the whole map at once gives, genes decoded as `Genome.decode` does."""
    study = StudyState.new("e", parse_spec({**SPEC, **DEFAULTS}))
    _, got = calls.ask_job(study, 40)
    assert isinstance(got.candidates, bytes) and len(got.ids) == 40
    answer = calls.ask_answer(got)
    decoded = answer.decode()
    assert [c["id"] for c in decoded["candidates"]] == got.ids
    assert decoded["done"] is False and decoded["generation"] == got.generation
    assert answer.data == msgpack.packb(decoded, use_bin_type=True)
    row = study.spec.genome.encode(decoded["candidates"][0]["genes"])
    assert study.spec.genome.decode(row) == decoded["candidates"][0]["genes"]
    assert isinstance(decoded["candidates"][0]["genes"]["k"], int)


def test_heaviness_rules() -> None:
    small = StudyState.new("s", parse_spec({**SPEC, **DEFAULTS, "population": 8}))
    big = StudyState.new("b", parse_spec({**SPEC, **DEFAULTS}))
    assert not calls.ask_is_heavy(small, 8) and calls.ask_is_heavy(small, calls.INLINE_ITEMS + 1)
    assert calls.ask_is_heavy(big, 1)  # breeding a batch from a large island
    _, got = calls.ask_job(big, 10)
    assert not calls.ask_is_heavy(big, 10)  # the batch is bred: handing out is cheap
    few = results(calls.ask_answer(got).decode()["candidates"])
    assert not calls.tell_is_heavy(big, few)  # completes nothing
    assert not calls.tell_is_heavy(big, "not a list")  # refused at once, inline
    assert calls.tell_is_heavy(small, [{"id": 1}] * (calls.INLINE_ITEMS + 1))


def test_concurrent_clients_on_a_large_study_lose_nothing(make_daemon: MakeDaemon) -> None:
    import threading

    d = make_daemon({"daemon": {"plugins": ["evolve"], "workers": 2}})
    with d.client(timeout=120) as c:
        sid = c.call("evolve.create", SPEC)["study"]
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            with d.client(timeout=120) as c:
                for _ in range(3):
                    cands = c.call("evolve.ask", study=sid, n=POP // 2)["candidates"]
                    for part in (cands[: len(cands) // 2], cands[len(cands) // 2:]):
                        c.call("evolve.tell", study=sid, results=results(part))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not errors
    with d.client(timeout=120) as c:
        st = c.call("evolve.status", study=sid)
        assert st["evaluations"] == 4 * 3 * (POP // 2) and st["outstanding"] == 0
        assert st["generation"] == 5  # six batches of POP told: the initial one and 5 more
    d.kill()
    d.start()
    with d.client(timeout=120) as c:
        again = c.call("evolve.status", study=sid)
        assert again["evaluations"] == st["evaluations"] and again["best"] == st["best"]
