"""The frequency sketch is libCacheSim's, and byte-sized caches size it by objects."""

from __future__ import annotations

import random

import numpy as np
import pytest

from catalytic.plugins.workspace.adaptive import Adaptive
from catalytic.plugins.workspace.policies import POLICIES, make
from catalytic.plugins.workspace.policies.sketch import (
    DEPTH,
    LIBCACHESIM_HASHES,
    FrequencySketch,
    counters_for,
    xxh64_u64,
)
from catalytic.plugins.workspace.policies.wtinylfu import WTinyLFU


@pytest.mark.parametrize(("value", "seed", "digest"), [
    (0, 0, 3803688792395291579),  # XXH64 of eight zero bytes, seed 0
    (1, 0x12345678, 512166280014807191),
    ((1 << 64) - 1, 0x12344321, 14892570850134674759),
    (123456789, 0, 14662639848940634189),
])
def test_xxh64_of_one_word(value: int, seed: int, digest: int) -> None:
    assert xxh64_u64(value, seed) == digest


def test_sized_like_libcachesim() -> None:
    assert LIBCACHESIM_HASHES == 10 and DEPTH == 4
    assert counters_for(136) == 1956  # ceil(14.3775 × 136)
    assert counters_for(0) == 20  # fewer counters than hashes: twice the hashes


@pytest.mark.parametrize("hashes", [DEPTH, LIBCACHESIM_HASHES])
def test_slots_of_equals_slots_for_every_int(hashes: int) -> None:
    """The compiled replay hashes a trace's keys with `slots_of`; `access` with `slots`."""
    keys = [random.Random(i).randint(-(1 << 63), (1 << 63) - 1) for i in range(500)]
    keys += list(range(-3, 300))
    sk = FrequencySketch(1000, 100, hashes=hashes)
    many = sk.slots_of(np.array(keys, dtype=np.int64).view(np.uint64))
    assert many.shape == (len(keys), hashes)
    assert [list(row) for row in many.tolist()] == [list(sk.slots(k)) for k in keys]


def test_counts_and_ageing() -> None:
    sk = FrequencySketch(1000, sample=4)
    for _ in range(3):
        sk.add("hot", hit=True)
    assert sk.estimate("hot") == 3 and sk.estimate("cold") == 0
    sk.add("hot", hit=True)  # the 4th counted hit halves every counter
    assert sk.estimate("hot") == 2


def test_grow_keeps_what_it_was_told() -> None:
    sk = FrequencySketch(64, sample=10**9)
    for i in range(50):
        for _ in range(i % 7):
            sk.add(i)
    before = {i: sk.estimate(i) for i in range(50)}
    sk.grow(4096, list(range(50)))
    assert sk.n == counters_for(4096) and len(sk.table) == sk.n
    assert all(sk.estimate(i) >= before[i] for i in range(50))
    assert sum(sk.table) <= sk.hashes * sum(before.values())  # nothing made up


def test_byte_sized_wtinylfu_sizes_its_sketch_by_objects() -> None:
    idle = make("wtinylfu", 256 << 20, sized=True)
    assert isinstance(idle, WTinyLFU) and idle.sketch.n < 20_000  # not 256 Mi "objects"
    pol = make("wtinylfu", 8 << 20, sized=True)
    assert isinstance(pol, WTinyLFU)
    rng = random.Random(5)
    for _ in range(30_000):
        pol.access(f"k{rng.randrange(5000)}", 4096)  # 20 MB asked, ~2000 objects fit
        assert pol.used <= pol.capacity
    held = len(pol.probation) + len(pol.protected)
    assert held > 1024 and held <= pol.sketch.entries <= 2 * held  # grew with main
    assert pol.sketch.sample == 32 * pol.sketch.entries
    assert len(pol.sketch.memo) <= pol.sketch.memo_hard


def test_byte_sized_auto_samples_by_object_count() -> None:
    auto = Adaptive(8 << 20, sized=True, mean_size=4096)  # guesses 2048 objects
    assert not auto.history.maxlen  # history warm-up is for unit sizes only
    first_rate = auto.rate
    rng = random.Random(2)
    for _ in range(60_000):
        key = f"k{rng.randrange(40_000)}"
        auto.access(key, 500)  # ~16k objects fit: the guess was 8× too low
        assert auto.used <= auto.capacity
    assert auto.objects > 8000
    assert auto.rate < first_rate / 2
    # shadows hold about min_shadow objects each, not rate × (capacity in bytes) objects
    assert all(len(s) < 3 * auto.min_shadow for s in auto.shadows.values())


@pytest.mark.parametrize("source", sorted(POLICIES))
def test_wtinylfu_adopts_a_resident_set_into_probation(source: str) -> None:
    old = POLICIES[source](500)
    old.replay([i % 900 for i in range(5000)])
    new = WTinyLFU(500)
    new.adopt(old.resident(), old.sizes())
    assert set(new.resident()) == set(old.resident()) and new.used == old.used
    assert not new.protected and len(new.window) <= new.window_cap
    new.replay(list(range(2000, 3000)))  # the carried keys are the first to go
    assert new.used <= new.capacity


def test_wtinylfu_adoption_counts_the_history_it_is_given() -> None:
    new = WTinyLFU(500)
    history = [7] * 5 + [8] * 2 + list(range(100, 150))
    new.adopt([1, 2, 3], {1: 1, 2: 1, 3: 1}, history)
    assert new.sketch.estimate(7) >= 5 and new.sketch.estimate(8) >= 2
    assert new.sketch.estimate(1) < 5  # carried keys are not counted for being carried
    fresh = WTinyLFU(500)
    fresh.adopt([1, 2, 3], {1: 1, 2: 1, 3: 1})
    assert not any(fresh.sketch.table)


def test_auto_switches_only_when_the_lead_can_pay_for_it() -> None:
    auto = Adaptive(10_000, start="s3fifo")
    assert not auto.mirror
    auto._warm = 2000  # sampled requests so far
    auto.scores = dict.fromkeys(auto.scores, 1000.0)
    auto.scores["wtinylfu"] = 1010.0  # a 1% lead: pays back only over a long future
    assert not auto._pays("wtinylfu")
    auto._warm = 10_000_000
    assert auto._pays("wtinylfu")


def test_byte_sized_auto_moves_between_mirrored_and_sampled_shadows() -> None:
    auto = Adaptive(1 << 20, sized=True, mean_size=64 << 10)  # guesses 16 objects: R = 1
    assert auto.mirror
    rng = random.Random(9)
    resident: set[str] = set()
    auto.on_evict = resident.discard
    phases = ((100 << 10, 200), (100, 40_000), (100 << 10, 200))  # big, then small entries
    for size, keys in phases:
        for _ in range(30_000):
            key = f"{size}/{rng.randrange(keys)}"
            if not auto.access(key, size) and key in auto:
                resident.add(key)
            assert auto.used <= auto.capacity
        assert resident == set(auto.sizes())
        if size == 100:
            assert not auto.mirror and auto.rate <= 0.5  # thousands of objects: sampled
    assert auto.mirror  # back to ~10 objects: full-size shadows again
