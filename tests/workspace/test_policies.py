"""Each eviction policy agrees with libCacheSim's implementation of it."""

from __future__ import annotations

import random

import pytest
from ws_helpers import DATA, lcs_hits, zipf_keys

from catalytic.plugins.workspace.policies import NAMES, POLICIES, make
from catalytic.plugins.workspace.policies.belady import belady_hits
from catalytic.plugins.workspace.traces import read_trace

lcs = pytest.importorskip("libcachesim")

TOLERANCE = {"arc": 0.5}  # points of hit ratio; every other policy matches hit for hit
EXACT = ("lru", "lfu", "s3fifo", "sieve", "wtinylfu")


def _traces() -> dict[str, list[int]]:
    return {
        "web07": read_trace(DATA / "web07-20k.trace.xz", fmt="i32"),
        "zipf0.8": zipf_keys(0.8, 5000, 20000, seed=8),
        "zipf1.0": zipf_keys(1.0, 5000, 20000, seed=10),
        "zipf1.2": zipf_keys(1.2, 5000, 20000, seed=12),
    }


TRACES = _traces()


@pytest.mark.parametrize("trace", sorted(TRACES))
@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_matches_libcachesim(policy: str, trace: str) -> None:
    keys = TRACES[trace]
    distinct = len(set(keys))
    for capacity in (max(200, distinct // 100), distinct // 10):
        ours = make(policy, capacity).replay(keys)
        ref = lcs_hits(lcs, policy, keys, capacity)
        if policy in EXACT:
            assert ours == ref, (policy, trace, capacity, ours, ref)
        diff = 100.0 * (ours - ref) / len(keys)
        assert abs(diff) <= TOLERANCE.get(policy, 0.5), (policy, trace, capacity, ours, ref)


@pytest.mark.parametrize("capacity", [100, 137, 250, 399])
def test_wtinylfu_matches_libcachesim_at_tiny_windows(capacity: int) -> None:
    """Windows of 1-3 objects: admission turns on every sketch collision, and the sketch
    is libCacheSim's (same counters, same hashes), so the hits are the same."""
    keys = TRACES["web07"]
    assert make("wtinylfu", capacity).replay(keys) == lcs_hits(lcs, "wtinylfu", keys, capacity)


@pytest.mark.parametrize("capacity", [50, 400])
def test_belady_matches_libcachesim(capacity: int) -> None:
    keys = TRACES["web07"]
    assert belady_hits(keys, capacity) == lcs_hits(lcs, "belady", keys, capacity)


@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_replay_equals_access(policy: str) -> None:
    keys = TRACES["zipf1.0"][:5000]
    a, b = make(policy, 300), make(policy, 300)
    assert a.replay(keys) == sum(b.access(k) for k in keys)
    assert sorted(a.resident(), key=str) == sorted(b.resident(), key=str)


@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_byte_capacity_is_never_exceeded(policy: str) -> None:
    rng = random.Random(7)
    pol = make(policy, 10_000)
    resident: set[int] = set()
    pol.on_evict = resident.discard
    for _ in range(5000):
        key = int(rng.paretovariate(1.2)) % 800
        if not pol.access(key, size=50 + key % 400) and key in pol:
            resident.add(key)
        assert pol.used <= pol.capacity
        assert resident == set(pol.sizes())
        assert pol.used == sum(pol.sizes().values())


@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_remove_and_oversized(policy: str) -> None:
    pol = make(policy, 1000)
    for k in range(300):
        pol.access(k, 1)
    present = pol.resident()[-1]
    assert pol.remove(present) and present not in pol
    assert not pol.remove("absent")
    assert not pol.access("huge", 5000) and "huge" not in pol


def test_unknown_policy_names_choices() -> None:
    with pytest.raises(ValueError, match="sieve"):
        make("fifo2", 10)
    assert "auto" in NAMES
