"""evolve over the socket of a real daemon: studies, bad input, runs, resume after SIGKILL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from catalytic.client import Client, DeadlineExceeded, InvalidParams, RpcError

MakeDaemon = Callable[..., Any]

CONFIG = {"daemon": {"plugins": ["evolve"], "workers": 2}}

GENES = [{"name": "x", "type": "real", "low": 0, "high": 1},
         {"name": "n", "type": "int", "low": 0, "high": 5},
         {"name": "c", "type": "categorical", "choices": ["a", "b", "c"]},
         {"name": "b", "type": "bool"}]
OBJECTIVES = [{"name": "cost", "direction": "min"}, {"name": "gain", "direction": "max"}]


def f(genes: dict[str, Any]) -> list[float]:
    penalty = {"a": 0.0, "b": 0.1, "c": 0.2}[genes["c"]] + (0.05 if genes["b"] else 0.0)
    return [genes["x"] + 0.1 * genes["n"] + penalty, genes["x"] - penalty]


def tell_all(c: Client, sid: str, cands: list[dict[str, Any]]) -> dict[str, Any]:
    return c.call("evolve.tell", {"study": sid, "results": [
        {"id": k["id"], "values": f(k["genes"])} for k in cands]})


def test_ask_tell_pareto_and_bookkeeping(make_daemon: MakeDaemon) -> None:
    d = make_daemon(CONFIG)
    with d.client() as c:
        sid = c.call("evolve.create", {"genes": GENES, "objectives": OBJECTIVES,
                                       "population": 10, "seed": 1})["study"]
        for _ in range(6):
            cands = c.call("evolve.ask", {"study": sid, "n": 5})["candidates"]
            assert len(cands) == 5
            for k in cands:
                g = k["genes"]
                assert 0 <= g["x"] <= 1 and g["n"] in range(6) and g["c"] in "abc"
                assert isinstance(g["b"], bool)
            tell_all(c, sid, cands)
        st = c.call("evolve.status", {"study": sid})
        assert st["evaluations"] == 30 and st["generation"] == 2
        assert st["hypervolume"] is not None and st["hypervolume"] > 0
        front = c.call("evolve.pareto", {"study": sid})["front"]
        assert front and all(set(p) == {"genes", "values"} for p in front)
        for p in front:  # nothing in the front is dominated by another member
            assert not any(q["values"][0] <= p["values"][0] and q["values"][1] >= p["values"][1]
                           and q["values"] != p["values"] for q in front)
        # double tell and unknown ids name the field
        k = c.call("evolve.ask", {"study": sid, "n": 1})["candidates"][0]
        tell_all(c, sid, [k])
        with pytest.raises(InvalidParams, match=r"results\[0\]\.id.*already told"):
            tell_all(c, sid, [k])
        with pytest.raises(InvalidParams, match="unknown"):
            c.call("evolve.tell", {"study": sid, "results": [{"id": 10**6, "values": [1, 2]}]})
        # NaN and infinity are failures, reported and counted
        ks = c.call("evolve.ask", {"study": sid, "n": 2})["candidates"]
        out = c.call("evolve.tell", {"study": sid, "results": [
            {"id": ks[0]["id"], "values": [float("nan"), 1.0]},
            {"id": ks[1]["id"], "values": [float("inf"), 1.0]}]})
        assert out["failed"] == [ks[0]["id"], ks[1]["id"]]
        assert c.call("evolve.status", {"study": sid})["failures"] == 2
        listed = c.call("evolve.list")["studies"]
        assert [s["study"] for s in listed] == [sid]
        c.call("evolve.delete", {"study": sid})
        with pytest.raises(InvalidParams, match="study"):
            c.call("evolve.status", {"study": sid})


@pytest.mark.parametrize("params, field", [
    ({"genes": [{"name": "x", "type": "real", "low": 1, "high": 0}]}, "genes[0].high"),
    ({"genes": [{"name": "x", "type": "real", "low": 1, "high": 1}]}, "genes[0].high"),
    ({"genes": [{"name": "x", "type": "quantum"}]}, "genes[0].type"),
    ({"objectives": []}, "objectives"),
    ({"population": 5}, "population"),
])
def test_bad_create_params(make_daemon: MakeDaemon, params: dict[str, Any], field: str) -> None:
    d = make_daemon(CONFIG)
    base = {"genes": GENES, "objectives": OBJECTIVES, "population": 10}
    with d.client() as c, pytest.raises(InvalidParams) as err:
        c.call("evolve.create", {**base, **params})
    assert err.value.code == -32602 and field in err.value.message


SHAPES = [
    ({"population": 5}, "population",
     "population = 5 (evolve.create): expected an even number (offspring come in pairs)"),
    ({"genes": [{"name": "x", "type": "quantum"}]}, "genes[0].type",
     "genes[0].type = 'quantum' (evolve.create): expected one of 'real', 'int', "
     "'categorical', 'bool'"),
    ({"termination": {"forever": 1}}, "termination.forever",
     "termination.forever = 1 (evolve.create): expected one of the fields evaluations, "
     "generations, stall, target"),
    ({"termination": {"stall": 0}}, "termination.stall",
     "termination.stall = 0 (evolve.create): expected an integer ≥ 1"),
    ({"weights": [1.0]}, "weights",
     "weights = [1.0] (evolve.create): expected a list of 2 numbers (one per objective)"),
]


def test_bad_spec_and_tell_have_the_shared_field_shape(make_daemon: MakeDaemon) -> None:
    """A bad study spec or tell payload over the socket reads like a bad param or config
    value: `<field> = <value> (<where>): expected <what>`, -32602 with data.field."""
    d = make_daemon(CONFIG)
    base = {"genes": GENES, "objectives": OBJECTIVES, "population": 10}
    with d.client() as c:
        for params, field, message in SHAPES:
            with pytest.raises(InvalidParams) as err:
                c.call("evolve.create", {**base, **params})
            assert err.value.message == message
            assert err.value.data["field"] == field
        sid = c.call("evolve.create", base)["study"]
        with pytest.raises(InvalidParams) as err:
            c.call("evolve.tell", {"study": sid, "results": [{"id": 10**6, "values": [1, 2]}]})
        assert err.value.message == (f"results[0].id = 1000000 (evolve.tell): expected a "
                                     f"candidate still out in study {sid} (this one is unknown)")
        assert err.value.data == {"field": "results[0].id", "where": "evolve.tell",
                                  "expected": err.value.message.split("expected ", 1)[1]}


def test_concurrent_clients_share_a_study(make_daemon: MakeDaemon) -> None:
    d = make_daemon(CONFIG)
    with d.client() as c:
        sid = c.call("evolve.create", {"genes": GENES, "objectives": OBJECTIVES,
                                       "population": 8, "seed": 2})["study"]
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with d.client() as c:
                for _ in range(10):
                    cands = c.call("evolve.ask", {"study": sid, "n": 3})["candidates"]
                    tell_all(c, sid, cands)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with d.client() as c:
        st = c.call("evolve.status", {"study": sid})
    assert st["evaluations"] == 120 and st["outstanding"] == 0 and st["generation"] >= 10
    d.kill()  # checkpoints taken while other calls were in flight still replay exactly
    d.start()
    with d.client() as c:
        assert c.call("evolve.status", {"study": sid}) == st


def test_resume_after_sigkill_loses_no_told_result(make_daemon: MakeDaemon) -> None:
    d = make_daemon(CONFIG)
    with d.client() as c:
        sid = c.call("evolve.create", {"genes": GENES, "objectives": OBJECTIVES,
                                       "population": 10, "seed": 4})["study"]
        for _ in range(3):
            tell_all(c, sid, c.call("evolve.ask", {"study": sid, "n": 7})["candidates"])
        held = c.call("evolve.ask", {"study": sid, "n": 4})["candidates"]
        tell_all(c, sid, held[:2])  # mid-generation: two told, two still out
        before = c.call("evolve.status", {"study": sid})
        front_before = c.call("evolve.pareto", {"study": sid})["front"]
    d.kill()
    d.start()
    with d.client() as c:
        after = c.call("evolve.status", {"study": sid})
        assert after == before
        assert c.call("evolve.pareto", {"study": sid})["front"] == front_before
        with pytest.raises(InvalidParams, match="already told"):
            tell_all(c, sid, held[:1])
        out = tell_all(c, sid, held[2:])  # the candidates handed out before the kill
        assert out["told"] == 2 and out["evaluations"] == before["evaluations"] + 2


def test_run_builtin_problem_with_progress(make_daemon: MakeDaemon) -> None:
    d = make_daemon(CONFIG)
    seen: list[dict[str, Any]] = []
    with d.client() as c:
        r = c.call("evolve.run", {"problem": "zdt1", "generations": 40, "population": 40,
                                  "seed": 1, "islands": 2}, progress=seen.append, timeout=120)
        assert set(r) >= {"study", "evaluations", "pareto"}
        assert r["evaluations"] == 2 * 40 * 41
        assert all(len(p) == 2 and 0 <= p[0] <= 1 for p in r["pareto"])
        assert seen and seen[-1]["done"] == 40
        st = c.call("evolve.status", {"study": r["study"]})
        assert st["generation"] == 40 and st["hypervolume"] > 0.2  # random rows score ~0
        # same seed, same result (islands run in other processes)
        r2 = c.call("evolve.run", {"problem": "zdt1", "generations": 40, "population": 40,
                                   "seed": 1, "islands": 2}, timeout=120)
        assert r2["pareto"] == r["pareto"] and r2["study"] != r["study"]
        # a finished run can be continued
        r3 = c.call("evolve.run", {"study": r["study"], "generations": 50}, timeout=120)
        assert r3["evaluations"] == 2 * 40 * 51
        with pytest.raises(RpcError):
            c.call("evolve.run", {"problem": "nope"})


def test_cancelled_run_keeps_its_last_epoch(make_daemon: MakeDaemon) -> None:
    d = make_daemon(CONFIG)
    with d.client() as c:
        with pytest.raises(DeadlineExceeded):
            c.call("evolve.run", {"problem": "dtlz2", "generations": 100_000, "population": 40,
                                  "islands": 2, "seed": 3}, timeout=1.5)
        deadline = time.monotonic() + 10
        while True:  # the handler is cancelled; the study is released and usable
            studies = c.call("evolve.list")["studies"]
            if studies and not studies[0]["running"]:
                break
            assert time.monotonic() < deadline, "the cancelled run never stopped"
            time.sleep(0.1)
        sid = studies[0]["study"]
        st = c.call("evolve.status", {"study": sid})
        assert 0 < st["generation"] < 100_000 and st["evaluations"] > 0
        assert c.call("system.ping", {"payload": 1}) == 1
    d.kill()
    d.start()
    with d.client() as c:  # the last completed epoch was checkpointed
        assert c.call("evolve.status", {"study": sid})["generation"] == st["generation"]


def test_stats_publish_convergence_for_the_dashboard(make_daemon) -> None:
    d = make_daemon({"daemon": {"plugins": ["evolve"]}})
    with d.client() as c:
        c.call("evolve.run", problem="zdt1", generations=30, population=40, seed=3)
        chart = c.call("system.stats")["plugins"]["evolve"]["charts"]["convergence"]
    assert chart["kind"] == "line" and chart["x"] == sorted(chart["x"]) and chart["x"][-1] == 30
    best, mean = chart["series"]["best"], chart["series"]["mean"]
    assert len(best) == len(mean) == len(chart["x"])
    assert all(b <= m for b, m in zip(best, mean, strict=True))  # the best is never worse
    assert best[-1] <= best[0]
