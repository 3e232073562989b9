"""The workspace never stalls the event loop: memory hits never wait for the disk,
accesses reach the index in one transaction off the loop, stats need no I/O."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from ping_probe import get_each, p99, pings_during, put_keys
from ws_helpers import open_workspace

from catalytic.plugins.workspace import disk
from catalytic.plugins.workspace.workspace import Workspace


@pytest.fixture(autouse=True)
def _small_flush_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(disk, "FLUSH_AFTER", 64)  # fewer fsync'd puts to reach a flush


def _while_disk_is_held(ws: Workspace, work: Any) -> Any:
    """Run `work()` while another thread holds the disk lock (as an fsync would);
    return its result, or fail if it waited for the lock."""
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with ws.disk.lock:
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(10)
    out: list[Any] = []
    runner = threading.Thread(target=lambda: out.append(work()), daemon=True)
    runner.start()
    runner.join(10)
    finished = not runner.is_alive()
    release.set()
    holder.join()
    assert finished, "the memory-tier call waited for the disk lock"
    return out[0]


def test_memory_hits_and_stats_never_wait_for_the_disk(tmp_path: Path) -> None:
    ws: Workspace = open_workspace(tmp_path, policy="lru", prefetch=False)
    keys = [f"k/{i}" for i in range(disk.FLUSH_AFTER + 36)]
    for k in keys:
        ws.put(k.encode() * 10, key=k)
    got = _while_disk_is_held(ws, lambda: [ws.quick_get(k) for k in keys])
    assert got == [k.encode() * 10 for k in keys]
    assert ws.flush_due  # the accesses wait for a thread to write them
    st = _while_disk_is_held(ws, ws.stats)
    assert st["disk"]["entries"] == len(keys) and st["memory"]["hits"] == len(keys)
    assert st["disk"]["raw_bytes"] == sum(len(k) * 10 for k in keys)
    ws.close()


def test_accesses_reach_the_index_in_one_transaction(tmp_path: Path) -> None:
    ws: Workspace = open_workspace(tmp_path, policy="lru", prefetch=False)
    keys = [f"k/{i}" for i in range(disk.FLUSH_AFTER * 3)]
    for k in keys:
        ws.put(b"v" + k.encode(), key=k)
    commits: list[str] = []
    ws.disk.db.set_trace_callback(lambda sql: commits.append(sql) if sql == "COMMIT" else None)
    for k in keys:
        assert ws.quick_get(k) is not None
    assert commits == []  # nothing written by the reads themselves
    assert ws.flush_access() == len(keys)
    assert commits == ["COMMIT"]
    ws.disk.db.set_trace_callback(None)
    ws.close()
    db = sqlite3.connect(tmp_path / "index.sqlite3")
    freq = dict(db.execute("SELECT key, freq FROM entries"))
    assert all(freq[k] == 2 for k in keys)
    db.close()


def test_ping_stays_quick_during_gets_over_3000_keys(make_daemon: Any) -> None:
    d = make_daemon({"daemon": {"plugins": ["workspace"], "log_level": "warning"}})

    async def run() -> list[float]:
        c = await d.aclient()
        keys = await put_keys(c, 3000)
        await c.close()

        async def work(client: Any) -> None:
            for _ in range(2):
                await get_each(client, keys)

        return await pings_during(d, work)

    lat = asyncio.run(run())
    assert len(lat) > 50
    assert p99(lat) < 100, f"system.ping p99 {p99(lat):.1f} ms during workspace.get"
    with d.client() as c:
        st = c.call("workspace.stats")
        assert st["memory"]["hits"] == 6000 and st["disk"]["entries"] == 3000


def test_ping_stays_quick_during_a_simulation_of_uploaded_keys(make_daemon: Any) -> None:
    """Checking, converting and shipping 500,000 keys happens off the loop (the list's
    own decoding by the connection is the one step left on it)."""
    d = make_daemon({"daemon": {"plugins": ["workspace"], "log_level": "warning",
                                "workers": 2}})
    keys = [(i * 7919) % 50_000 for i in range(500_000)]
    out: dict[str, Any] = {}

    async def work(client: Any) -> None:
        out["one"] = await client.call("workspace.simulate", keys=keys, policies=["lru"],
                                       capacities=[500], timeout=120)
        out["sweep"] = await client.call("workspace.simulate", keys=keys,
                                         policies=["lru", "sieve"], capacities=[500, 5000],
                                         timeout=120)

    lat = asyncio.run(pings_during(d, work))
    assert out["one"]["requests"] == out["sweep"]["requests"] == len(keys)
    assert "trace" not in out["one"] and "trace" not in out["sweep"]
    assert out["one"]["results"][0] == out["sweep"]["results"][0]
    assert p99(lat) < 100, f"system.ping p99 {p99(lat):.1f} ms during workspace.simulate"
    assert not list((d.state_dir / "workspace").glob("simulate-*"))


def test_policy_switch_under_concurrent_gets_stays_consistent(tmp_path: Path) -> None:
    """The new policy is built outside the lock; hits and evictions meanwhile must
    leave the memory tier and the policy holding the same keys."""
    ws: Workspace = open_workspace(tmp_path, policy="lru", prefetch=False,
                                   memory_capacity=120 * 200)
    keys = [f"k/{i}" for i in range(200)]
    for k in keys:
        ws.put(k.encode().ljust(200, b"."), key=k, codec="none")
    done = threading.Event()

    def reader() -> None:
        i = 0
        while not done.is_set():
            ws.get(keys[i % len(keys)])
            i += 7

    t = threading.Thread(target=reader)
    t.start()
    try:
        for name in ("s3fifo", "sieve", "auto", "wtinylfu", "lru"):
            ws.set_policy(name)
    finally:
        done.set()
        t.join()
    with ws.lock:
        resident = set(ws.policy.resident())
        assert set(ws.mem) == resident
        assert ws.mem_used == sum(len(m.stored) for m in ws.mem.values()) <= 120 * 200
    ws.close()
