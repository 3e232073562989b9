"""The workspace over a real daemon: the verbs, bad input, crash safety, warm restart."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path
from typing import Any

import pytest
from ws_helpers import DATA, zipf_keys

from catalytic.client.errors import Forbidden, InvalidParams, RpcError, TooLarge
from catalytic.plugins.workspace.simulate import simulate
from catalytic.plugins.workspace.traces import read_trace
from catalytic.plugins.workspace.workload import artifact_bytes


def _cfg(**ws: Any) -> dict[str, dict[str, Any]]:
    return {"daemon": {"plugins": ["workspace"], "workers": 2}, "workspace": ws}


def test_verbs_roundtrip(make_daemon: Any) -> None:
    d = make_daemon(_cfg(policy="lru"))
    with d.client() as c:
        data = artifact_bytes("task7/step3")
        out = c.call("workspace.put", data=data)
        assert len(out["key"]) == 64 and out["codec"] == "zstd"
        assert c.call("workspace.get", key=out["key"]) == {"data": data, "tier": "memory"}
        assert c.call("workspace.get", key="nope") == {"data": None, "tier": None}
        c.call("workspace.put", data=b"hello", key="greeting", codec="none")
        assert c.call("workspace.has", key="greeting") == {"present": True, "tier": "memory"}
        many = c.call("workspace.put_many", items=[{"data": b"a" * 100, "key": "m/a"},
                                                   {"data": b"b" * 100}])
        assert many["keys"][0] == "m/a"
        got = c.call("workspace.get_many", keys=["m/a", "greeting", "absent"])["items"]
        assert [g["data"] for g in got] == [b"a" * 100, b"hello", None]
        st = c.call("workspace.stats")
        assert st["memory"]["entries"] == 4 and st["memory"]["hits"] >= 3
        assert st["compression"]["ratio"] > 1 and st["compression"]["bytes_saved"] > 0
        assert st["policy"] == "lru"
        assert c.call("workspace.policy", name="s3fifo") == {"policy": "s3fifo",
                                                             "previous": "lru"}
        assert c.call("workspace.policy")["policy"] == "s3fifo"
        assert c.call("workspace.delete", key="greeting") == {"deleted": True}
        assert c.call("workspace.has", key="greeting") == {"present": False, "tier": None}
        assert c.call("workspace.clear")["removed"] == 3
        assert c.call("workspace.stats")["disk"]["entries"] == 0


def test_get_answers_memory_hits_at_once_and_defers_the_rest(make_daemon: Any) -> None:
    """Memory-tier hits take `get`'s quick path; disk hits and misses its async handler;
    a bad key is refused on either; every call is counted once in the method's stats."""
    d = make_daemon(_cfg(policy="lru", memory_capacity=4096, compression="none"))
    with d.client() as c:
        for i in range(8):  # 8 × 1 KiB through a 4 KiB memory tier: the first ones go to disk
            c.call("workspace.put", data=bytes([i]) * 1024, key=f"q/{i}")
        assert c.call("workspace.get", key="q/7") == {"data": b"\x07" * 1024, "tier": "memory"}
        assert c.call("workspace.get", key="q/0") == {"data": b"\x00" * 1024, "tier": "disk"}
        assert c.call("workspace.get", key="q/0")["tier"] == "memory"  # promoted
        assert c.call("workspace.get", key="q/none") == {"data": None, "tier": None}
        with pytest.raises(InvalidParams) as e:
            c.call("workspace.get", key="../escape")
        assert "key" in e.value.message
        got = c.call("system.stats")["methods"]["workspace.get"]
        assert got["calls"] == 5 and got["errors"] == {"-32602": 1}


def test_bad_input(make_daemon: Any, tmp_path: Path) -> None:
    d = make_daemon(_cfg(max_value_bytes=1000, trace_roots=[str(tmp_path)]))
    with d.client() as c:
        with pytest.raises(TooLarge) as big:
            c.call("workspace.put", data=b"x" * 1001)
        assert big.value.code == -32004
        for bad in ("../escape", "", "a b", "x" * 600):
            with pytest.raises(InvalidParams) as e:
                c.call("workspace.put", data=b"v", key=bad)
            assert e.value.code == -32602
        with pytest.raises(InvalidParams):
            c.call("workspace.get", key=123)
        with pytest.raises(InvalidParams):
            c.call("workspace.policy", name="mru")
        with pytest.raises(InvalidParams):
            c.call("workspace.simulate", keys=[1, 2], capacities=[10], policies=["nope"])
        broken = tmp_path / "broken.trace.gz"
        broken.write_bytes(gzip.compress(b"1\n2\n3\nfour\n5\n"))
        with pytest.raises(RpcError) as e:
            c.call("workspace.simulate", trace=str(broken), capacities=[2])
        assert e.value.code == -33002 and "line 4" in e.value.message
        outside = Path(__file__)
        with pytest.raises(Forbidden):
            c.call("workspace.simulate", trace=str(outside), capacities=[2])
        assert c.call("workspace.put", data=b"still fine", key="ok")["key"] == "ok"


def test_simulate_matches_libcachesim_with_progress(make_daemon: Any) -> None:
    lcs = pytest.importorskip("libcachesim")
    from ws_helpers import lcs_hits

    keys = zipf_keys(0.9, 3000, 15000, seed=5)
    d = make_daemon(_cfg())
    seen: list[dict[str, Any]] = []
    with d.client() as c:
        out = c.call("workspace.simulate",
                     {"keys": keys, "policies": ["lru", "sieve", "s3fifo", "auto"],
                      "capacities": [100, 500], "prefetch": False},
                     progress=seen.append, timeout=120)
    rows = out["results"]
    assert len(rows) == 8 and {r["policy"] for r in rows} == {"lru", "sieve", "s3fifo", "auto"}
    for r in rows:
        assert r["hits"] + r["misses"] == len(keys) and r["prefetch"] is False
        if r["policy"] != "auto":
            assert r["hits"] == lcs_hits(lcs, r["policy"], keys, r["capacity"])
    assert seen and seen[-1]["done"] == seen[-1]["total"] == 4  # one job per policy
    assert {(p.get("message") or "").split(":")[0] for p in seen} <= {"lru", "sieve",
                                                                       "s3fifo", "auto"}
    assert not list((d.state_dir / "workspace").glob("simulate-*"))  # uploaded keys' file
    local = simulate(keys, ["lru", "sieve", "s3fifo", "auto"], [100, 500])
    assert rows == local["results"] and out["distinct"] == local["distinct"]


def test_simulate_runs_wtinylfus_compiled_loop_in_the_pool(make_daemon: Any) -> None:
    """40,000 requests take W-TinyLFU's numba loop, in the daemon's worker processes; the
    hits are libCacheSim's."""
    lcs = pytest.importorskip("libcachesim")
    from ws_helpers import lcs_hits

    keys = zipf_keys(0.9, 8000, 40_000, seed=6)
    d = make_daemon(_cfg())
    with d.client() as c:
        out = c.call("workspace.simulate", {"keys": keys, "policies": ["wtinylfu"],
                                            "capacities": [200, 1500]}, timeout=120)
    for r in out["results"]:
        assert r["hits"] == lcs_hits(lcs, "wtinylfu", keys, r["capacity"]), r


def test_simulate_trace_fans_out_like_one_job(make_daemon: Any, tmp_path: Path) -> None:
    trace = tmp_path / "web07.trace.xz"
    shutil.copy(DATA / "web07-20k.trace.xz", trace)
    d = make_daemon(_cfg(trace_roots=[str(tmp_path)]))
    with d.client() as c:
        out = c.call("workspace.simulate", {"trace": str(trace), "format": "i32",
                                            "policies": ["wtinylfu", "arc", "auto"],
                                            "capacities": [150, 900], "limit": 15000},
                     timeout=120)
    local = simulate(read_trace(trace, "i32", 15000), ["wtinylfu", "arc", "auto"], [150, 900])
    assert out["results"] == local["results"] and out["requests"] == 15000
    assert out["trace"] == str(trace)
    assert not list((d.state_dir / "workspace").glob("simulate-*"))


def test_acknowledged_puts_survive_sigkill(make_daemon: Any) -> None:
    d = make_daemon(_cfg(policy="s3fifo"))
    values = {f"run/{i}": artifact_bytes(f"task{i}/out") for i in range(60)}
    with d.client() as c:
        for k, v in values.items():
            assert c.call("workspace.put", data=v, key=k)["key"] == k
    d.kill()
    d.start()
    with d.client() as c:
        for k, v in values.items():
            assert c.call("workspace.get", key=k)["data"] == v
        assert c.call("workspace.stats")["corrupt_removed"] == 0


def test_warm_restart_and_corrupt_blob(make_daemon: Any) -> None:
    d = make_daemon(_cfg(policy="lru", compression="none"))
    with d.client() as c:
        for i in range(20):
            c.call("workspace.put", data=bytes([i]) * 2000, key=f"w{i}")
    d.stop()
    blobs = sorted((d.state_dir / "workspace" / "blobs").rglob("*"))
    victim = next(p for p in blobs if p.is_file() and p.read_bytes() == bytes([3]) * 2000)
    victim.write_bytes(bytes([99]) * 2000)
    d.start()
    with d.client() as c:
        assert c.call("workspace.get", key="w7") == {"data": bytes([7]) * 2000,
                                                    "tier": "memory"}
        assert c.call("workspace.get", key="w3") == {"data": None, "tier": None}
        st = c.call("workspace.stats")
        assert st["corrupt_removed"] == 1 and st["memory"]["entries"] == 19
