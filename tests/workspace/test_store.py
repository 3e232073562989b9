"""The workspace tiers without the daemon: capacities, compression, checksums, TTL."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from ws_helpers import open_workspace

from catalytic.plugins.workspace.workload import artifact_bytes
from catalytic.plugins.workspace.workspace import (
    InvalidKey,
    ValueTooLarge,
    Workspace,
    content_key,
)


def _ws(tmp_path: Path, **kw: Any) -> Workspace:
    ws: Workspace = open_workspace(tmp_path, **kw)
    return ws


def test_put_get_roundtrip_and_default_key(tmp_path: Path) -> None:
    ws = _ws(tmp_path)
    data = artifact_bytes("task1/step0")
    out = ws.put(data)
    assert out["key"] == content_key(data) and out["codec"] == "zstd"
    assert out["stored_size"] < len(data) / 2
    assert ws.get(out["key"]) == (data, "memory")
    assert ws.get("missing") == (None, None)


def test_incompressible_is_stored_raw(tmp_path: Path) -> None:
    ws = _ws(tmp_path)
    assert ws.put(os.urandom(300_000), key="rnd")["codec"] == "none"
    assert ws.put(b"a" * 1000, key="lz", codec="lz4")["codec"] == "lz4"
    assert ws.get("lz")[0] == b"a" * 1000


def test_tiers_obey_capacities_and_disk_hits_promote(tmp_path: Path) -> None:
    ws = _ws(tmp_path, memory_capacity=20_000, disk_capacity=60_000, policy="lru",
             compression="none", prefetch=False)
    for i in range(20):
        ws.put(bytes([i]) * 5000, key=f"k{i}")
        assert ws.mem_used <= 20_000 and ws.disk.used <= 60_000
    assert len(ws.mem) == 4 and ws.disk.count() == 12
    assert ws.get("k0") == (None, None)  # evicted from disk too
    assert ws.get("k10") == (bytes([10]) * 5000, "disk")
    assert ws.has("k10") == "memory"
    st = ws.stats()
    assert st["memory"]["evictions"] >= 16 and st["disk"]["evictions"] == 8
    assert st["disk"]["hits"] == 1 and st["disk"]["misses"] == 1


def test_compression_raises_effective_memory_capacity(tmp_path: Path) -> None:
    sizes = {}
    for codec in ("none", "zstd"):
        ws = _ws(tmp_path / codec, memory_capacity=200_000, compression=codec, policy="lru")
        for i in range(40):
            ws.put(artifact_bytes(f"task{i}/step0"), key=f"a{i}")
        sizes[codec] = len(ws.mem)
        ratio = ws.stats()["compression"]["ratio"]
        assert (ratio > 2) == (codec == "zstd")
    assert sizes["zstd"] > 2 * sizes["none"]


def test_corrupt_blob_is_a_miss_and_removed(tmp_path: Path) -> None:
    ws = _ws(tmp_path, memory_capacity=1000, compression="none", policy="lru")
    ws.put(b"x" * 800, key="victim")
    ws.put(b"y" * 800, key="other")  # pushes victim out of memory
    assert "victim" not in ws.mem
    entry = ws.disk.get_entry("victim")
    assert entry is not None
    path = ws.disk.path(entry.digest)
    path.write_bytes(b"z" * 800)
    assert ws.get("victim") == (None, None)
    assert ws.disk.get_entry("victim") is None and ws.stats()["corrupt_removed"] == 1


def test_ttl_expires(tmp_path: Path) -> None:
    ws = _ws(tmp_path)
    ws.put(b"soon gone", key="t", ttl_s=1.0)  # long enough for a put on a loaded machine
    assert ws.get("t")[1] == "memory"
    time.sleep(1.1)
    assert ws.get("t") == (None, None) and ws.has("t") is None


def test_bad_keys_and_sizes(tmp_path: Path) -> None:
    ws = _ws(tmp_path, max_value_bytes=100)
    for bad in ("", "../etc/passwd", "a" * 600, "/abs", "with space", "x\n"):
        with pytest.raises(InvalidKey):
            ws.put(b"v", key=bad)
    with pytest.raises(ValueTooLarge):
        ws.put(b"v" * 101)


def test_snapshot_restore_is_warm(tmp_path: Path) -> None:
    ws = _ws(tmp_path, memory_capacity=50_000, policy="lru")
    for i in range(30):
        ws.put(artifact_bytes(f"task{i}/step1"), key=f"k{i}")
    hot = set(ws.mem)
    assert ws.snapshot(tmp_path / "snap.json") == len(hot)
    ws.close()
    again = _ws(tmp_path, memory_capacity=50_000, policy="lru")
    assert not again.mem
    assert again.restore(tmp_path / "snap.json") == len(hot)
    assert set(again.mem) == hot and again.get(next(iter(hot)))[1] == "memory"


def test_prefetch_moves_successors_to_memory(tmp_path: Path) -> None:
    ws = _ws(tmp_path, memory_capacity=30_000, compression="none", policy="lru")
    seq = [f"s{i}" for i in range(10)]
    for k in seq:
        ws.put(k.encode() * 1000, key=k)  # ~2-3 KB each
    for _ in range(3):  # learn the sequence; memory only holds part of it
        for k in seq:
            ws.get(k)
    for k in list(ws.mem):
        ws._drop_mem(k)
    ws.get("s0")
    assert ws.prefetch_after("s0") >= 1 and "s1" in ws.mem
    assert ws.get("s1")[1] == "memory"
    st = ws.stats()["prefetch"]
    assert st["used"] >= 1 and st["precision"] > 0


def test_set_policy_keeps_memory_consistent(tmp_path: Path) -> None:
    ws = _ws(tmp_path, memory_capacity=100_000, policy="lru")
    for i in range(50):
        ws.put(artifact_bytes(f"task{i}/step2"), key=f"k{i}")
    ws.set_policy("sieve")
    assert ws.policy.name == "sieve"
    assert set(ws.mem) == set(ws.policy.resident())
    assert ws.mem_used == sum(len(m.stored) for m in ws.mem.values()) <= 100_000


def test_shrink_frees_memory_but_keeps_data(tmp_path: Path) -> None:
    ws = _ws(tmp_path, memory_capacity=100_000, compression="none", policy="lru")
    for i in range(10):
        ws.put(bytes([i]) * 5000, key=f"k{i}")
    freed = ws.shrink(20_000)
    assert freed == 30_000 and ws.mem_used == 20_000
    assert set(ws.mem) == set(ws.policy.resident()) == {"k6", "k7", "k8", "k9"}
    assert ws.get("k0") == (bytes([0]) * 5000, "disk")
