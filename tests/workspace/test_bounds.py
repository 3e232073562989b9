"""Bounds of the workspace against a live daemon (issue 15): a reply's size is known
before anything is read, a trace's content never reaches an error, paths follow the
one rule, and every call that grows with its parameters is admitted by memory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import psutil
import pytest

from catalytic.client.errors import Forbidden, InvalidParams, Overloaded, RpcError, TooLarge

MIB = 1 << 20


def _cfg(daemon: dict[str, Any] | None = None, **ws: Any) -> dict[str, dict[str, Any]]:
    return {"daemon": {"plugins": ["workspace"], "workers": 2, **(daemon or {})},
            "workspace": ws}


def test_get_many_of_one_big_key_many_times_is_refused_before_reading(make_daemon: Any) -> None:
    d = make_daemon(_cfg())
    value = os.urandom(24 * MIB)  # incompressible: stored as is
    with d.client(timeout=120) as c:
        c.call("workspace.put", key="big", data=value)
        rss = psutil.Process(d.pid).memory_info().rss
        with pytest.raises(TooLarge) as err:
            c.call("workspace.get_many", keys=["big"] * 10)
        assert err.value.code == -32004
        assert "limits.max_message_bytes" in err.value.message
        assert str(240 * MIB) in err.value.message  # what the reply would have been
        grown = psutil.Process(d.pid).memory_info().rss - rss
        assert grown < 20 * MIB, f"refusing grew the daemon by {grown / MIB:.0f} MiB"
        got = c.call("workspace.get_many", keys=["big", "absent", "big"])["items"]
        assert [g["data"] == value for g in got] == [True, False, True]
        assert got[1] == {"key": "absent", "data": None, "tier": None}
        with pytest.raises(InvalidParams) as bad:
            c.call("workspace.get_many", keys=["ok", "../up"])
        assert "keys[1]" in bad.value.message


def test_get_many_is_admitted_against_the_memory_budget(make_daemon: Any) -> None:
    # a message limit above the budget, so the budget is what refuses
    d = make_daemon({**_cfg({"memory_budget": 1 << 30}),
                     "limits": {"max_message_bytes": 4 << 30}})
    with d.client(timeout=120) as c:
        c.call("workspace.put", key="v", data=os.urandom(24 * MIB))
        with pytest.raises(TooLarge) as whole:  # 50 x 24 MiB: more than the whole budget
            c.call("workspace.get_many", keys=["v"] * 50)
        assert whole.value.code == -32004 and "daemon.memory_budget" in whole.value.message
        with pytest.raises(Overloaded) as left:  # fits the budget, not what RSS leaves of it
            c.call("workspace.get_many", keys=["v"] * 40)
        assert left.value.code == -32002 and "daemon.memory_budget" in left.value.message
        assert len(c.call("workspace.get_many", keys=["v"] * 2)["items"]) == 2


def test_simulate_never_quotes_a_trace_nor_reveals_what_lies_outside(make_daemon: Any,
                                                                     tmp_path: Path) -> None:
    roots, outside = tmp_path / "traces", tmp_path / "private"
    roots.mkdir()
    outside.mkdir()
    secret = roots / "settings.env"
    secret.write_text("1\n2\nAPI_KEY=hunter2-secret\n")
    (outside / "exists.trace").write_text("1\n2\n")
    (roots / "link.trace").symlink_to(outside / "exists.trace")
    d = make_daemon(_cfg(trace_roots=[str(roots)]))
    with d.client() as c:
        with pytest.raises(RpcError) as e:
            c.call("workspace.simulate", trace=str(secret), capacities=[2])
        assert e.value.code == -33002 and "line 3" in e.value.message
        assert "hunter2" not in e.value.message and "API_KEY" not in e.value.message
        assert "hunter2" not in repr(e.value.data)
        refusals = []
        for path in (outside / "exists.trace", outside / "missing.trace", roots / "link.trace",
                     roots / ".." / "private" / "exists.trace"):
            with pytest.raises(Forbidden) as f:
                c.call("workspace.simulate", trace=str(path), capacities=[2])
            assert "workspace.trace_roots" in f.value.message
            refusals.append(f.value.message.replace(str(path), "<path>"))
        assert len(set(refusals)) == 1, refusals  # existing or not: the same answer
        for bad in (str(roots / "a\x00b.trace"), "relative.trace"):
            with pytest.raises(InvalidParams) as n:
                c.call("workspace.simulate", trace=bad, capacities=[2])
            assert n.value.code == -32602
        with pytest.raises(InvalidParams) as not_int:
            c.call("workspace.simulate", keys=[1, 2, "three", 4], capacities=[2])
        assert not_int.value.code == -32602 and "keys[2]" in not_int.value.message
        with pytest.raises(InvalidParams) as missing:
            c.call("workspace.simulate", trace=str(roots / "nope.trace"), capacities=[2])
        assert "does not exist" in missing.value.message
        assert c.call("system.ping") is not None


def test_simulate_estimates_its_memory_from_the_trace(make_daemon: Any, tmp_path: Path) -> None:
    huge = tmp_path / "huge.i64"
    with open(huge, "wb") as f:  # sparse: 8 GiB of zeros that take no disk
        f.truncate(8 << 30)
    small = tmp_path / "small.i64"
    small.write_bytes(b"".join(i.to_bytes(8, "big") for i in range(1000)))
    d = make_daemon(_cfg({"memory_budget": 512 * MIB}, trace_roots=[str(tmp_path)]))
    with d.client(timeout=120) as c:
        with pytest.raises(TooLarge) as e:  # 20 M requests (the cap) x 48 bytes x 2 jobs
            c.call("workspace.simulate", trace=str(huge), format="i64",
                   policies=["lru", "sieve"], capacities=[10, 100])
        assert e.value.code == -32004 and "daemon.memory_budget" in e.value.message
        assert "workspace.simulate" in e.value.message
        ok = c.call("workspace.simulate", trace=str(huge), format="i64", limit=1000,
                    policies=["lru"], capacities=[10])
        assert ok["requests"] == 1000
        out = c.call("workspace.simulate", trace=str(small), format="i64",
                     policies=["lru"], capacities=[2000])
        assert out["results"][0]["misses"] == 1000


def test_text_traces_read_in_blocks_match_the_whole_file(tmp_path: Path) -> None:
    import io

    from catalytic.plugins.workspace.traces import _lines, read_trace

    data = b"1\r\n2\r\n# note\n3\n\n4\r5*\n" * 50
    for block in (1, 2, 3, 7, 64, 1 << 20):
        assert [x.strip() for x in _lines(io.BytesIO(data), block)] == \
            [x.strip() for x in data.splitlines()]
    trace = tmp_path / "t.trace"
    trace.write_bytes(data)
    assert read_trace(trace) == [1, 2, 3, 4, 5] * 50
    assert read_trace(trace, limit=7) == [1, 2, 3, 4, 5, 1, 2]
