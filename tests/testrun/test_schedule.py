"""Scheduling: LPT against brute force, units, batching and the resource rules."""

from __future__ import annotations

import itertools
import random

import pytest

from catalytic.plugins.testrun.estimate import CPU, IO, MEMORY, Expect
from catalytic.plugins.testrun.schedule import (
    Unit,
    build_units,
    efficiency,
    lower_bound,
    lpt_pack,
    plan_shards,
)
from catalytic.plugins.testrun.work_feed import Batch, WorkFeed, simulate


def brute_force(durations: list[float], workers: int) -> float:
    """The optimal makespan by trying every assignment."""
    best = float("inf")
    for assign in itertools.product(range(workers), repeat=len(durations)):
        loads = [0.0] * workers
        for d, w in zip(durations, assign, strict=True):
            loads[w] += d
        best = min(best, max(loads))
    return best


def single_units(durations: list[float], kind: str = CPU, rss: int = 0) -> list[Unit]:
    return [Unit(f"t{i}.py::t", [f"t{i}.py::t"], d, kind, rss, order=i, durations=[d])
            for i, d in enumerate(durations)]


@pytest.mark.parametrize("seed", range(25))
def test_lpt_within_graham_bound_of_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    workers = rng.choice([2, 3])
    durations = [round(rng.uniform(0.1, 10), 2) for _ in range(rng.randint(2, 8))]
    opt = brute_force(durations, workers)
    lpt, bins = lpt_pack(durations, workers)
    assert sorted(i for b in bins for i in b) == list(range(len(durations)))
    assert lower_bound(durations, workers) <= opt + 1e-9
    assert opt - 1e-9 <= lpt <= (4 / 3 - 1 / (3 * workers)) * opt + 1e-9
    # Dynamic dispatch of single tests (no batching) is exactly LPT list scheduling.
    plan = simulate(single_units(durations), workers, cores=workers, memory_budget=1 << 40,
                    batch_target=0.0)
    assert plan.makespan == pytest.approx(lpt)
    assert sorted(t for w in plan.workers for t in w) == sorted(f"t{i}.py::t"
                                                               for i in range(len(durations)))


def test_lpt_is_optimal_on_a_classic_instance() -> None:
    # LPT's worst case for 2 machines: 3,3,2,2,2 -> LPT 7, optimum 6.
    assert lpt_pack([3, 3, 2, 2, 2], 2)[0] == 7
    assert brute_force([3, 3, 2, 2, 2], 2) == 6
    assert lower_bound([3, 3, 2, 2, 2], 2) == 6
    assert efficiency(6, 7) == pytest.approx(6 / 7)


def test_units_keep_collection_order_and_split_only_known_passing() -> None:
    ids = ["a.py::T::t1", "a.py::T::t2", "a.py::f", "b.py::T::t1", "a.py::T::t3", "b.py::T::t2"]
    ex = {i: Expect(i, 1.0, known=True, passed=True) for i in ids}
    ex["b.py::T::t2"] = Expect("b.py::T::t2", 1.0)  # never seen: b.py::T must not split
    units = build_units(ids, ex, alone=["a.py::f"], split_above=1.5)
    by_key = {u.key: u for u in units}
    # a.py::T is splittable (all passed); b.py::T is not.
    assert "a.py::T" not in by_key and {"a.py::T::t1", "a.py::T::t2", "a.py::T::t3"} <= set(by_key)
    assert by_key["b.py::T"].tests == ["b.py::T::t1", "b.py::T::t2"]
    assert by_key["a.py::f"].alone
    units = build_units(ids, ex, split_above=None)
    assert [u.tests for u in units] == [["a.py::T::t1", "a.py::T::t2", "a.py::T::t3"],
                                       ["a.py::f"], ["b.py::T::t1", "b.py::T::t2"]]


def test_order_dependent_units_are_never_split() -> None:
    ids = ["a.py::T::t1", "a.py::T::t2"]
    ex = {i: Expect(i, 5.0, known=True, passed=True) for i in ids}
    ex["a.py::T::t2"] = Expect("a.py::T::t2", 5.0, known=True, passed=True, order_dependent=True)
    assert [u.tests for u in build_units(ids, ex, split_above=1.0)] == [ids]


def concurrent(intervals, pred) -> list[list]:
    """The sets of intervals satisfying pred that overlap at each start instant."""
    out = []
    for s, _, _, _ in intervals:
        out.append([iv for iv in intervals if iv[0] <= s < iv[1] and pred(iv[3])])
    return out


def test_memory_budget_respected_with_memory_hungry_tests() -> None:
    mib = 1 << 20
    units = single_units([1.0, 2.0, 1.5, 0.5, 3.0], MEMORY, 300 * mib)
    units += single_units([0.7] * 6, CPU)
    for i, u in enumerate(units):
        u.key = u.tests[0] = f"m{i}.py::t"
    plan = simulate(units, workers=4, cores=4, memory_budget=700 * mib, batch_target=0.0)
    for group in concurrent(plan.intervals, lambda u: u.kind == MEMORY):
        assert sum(u.rss for _, _, _, u in group) <= 700 * mib
    assert max(len(g) for g in concurrent(plan.intervals, lambda u: u.kind == MEMORY)) == 2
    assert plan.peak_memory <= 700 * mib


def test_cpu_bound_at_most_one_per_core_io_may_overlap() -> None:
    units = single_units([1.0] * 6, CPU) + single_units([1.0] * 6, IO)
    for i, u in enumerate(units):
        u.key = u.tests[0] = f"x{i}.py::t"
    plan = simulate(units, workers=4, cores=2, memory_budget=1 << 40, batch_target=0.0)
    assert max(len(g) for g in concurrent(plan.intervals, lambda u: u.kind == CPU)) <= 2
    assert max(len(g) for g in concurrent(plan.intervals, lambda u: True)) == 4


def test_run_alone_unit_runs_with_nothing_else() -> None:
    units = single_units([1.0, 4.0, 1.0, 2.0, 1.0])
    for i, u in enumerate(units):
        u.key = u.tests[0] = f"y{i}.py::t"
    units[3].alone = True
    plan = simulate(units, workers=3, cores=3, memory_budget=1 << 40, batch_target=0.0)
    alone = next(iv for iv in plan.intervals if iv[3].alone)
    others = [iv for iv in plan.intervals if not iv[3].alone]
    assert all(e <= alone[0] or s >= alone[1] for s, e, _, _ in others)


def test_short_units_are_batched_and_heavy_ones_sent_singly() -> None:
    units = single_units([5.0] + [0.01] * 200)
    for i, u in enumerate(units):
        u.key = u.tests[0] = f"z{i}.py::t"
    d = WorkFeed(units, workers=2, cores=2, memory_budget=1 << 40, batch_target=0.2)
    first = d.next_batch("w0")
    assert isinstance(first, Batch) and first.tests == ["z0.py::t"]
    second = d.next_batch("w1")
    assert isinstance(second, Batch) and 10 <= len(second.tests) <= 21
    sizes = []
    while (b := d.next_batch("w1")) is not None:
        assert isinstance(b, Batch)
        sizes.append(len(b.tests))
    # Batches shrink towards the end so the tail stays short.
    assert sum(sizes) + len(second.tests) == 200 and sizes[-1] < len(second.tests)


def test_same_module_preferred_when_durations_tie() -> None:
    units = [Unit("a.py::A", ["a.py::A::t"], 1.0, order=0),
             Unit("b.py::B", ["b.py::B::t"], 1.0, order=1),
             Unit("b.py::C", ["b.py::C::t"], 1.0, order=2),
             Unit("a.py::D", ["a.py::D::t"], 1.0, order=3)]
    d = WorkFeed(units, workers=2, cores=2, memory_budget=1 << 40, batch_target=0.0)
    b0 = d.next_batch("w0")
    b1 = d.next_batch("w1")
    assert isinstance(b0, Batch) and isinstance(b1, Batch)
    assert b0.tests == ["a.py::A::t"] and b1.tests == ["b.py::B::t"]
    nxt = d.next_batch("w0")
    assert isinstance(nxt, Batch) and nxt.tests == ["a.py::D::t"]


@pytest.mark.parametrize("seed", range(6))
def test_shard_plan_covers_every_test_once_near_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    ids = [f"m{m}.py::test_{i}" for m in range(3) for i in range(3)]
    ids += ["m9.py::T::a", "m9.py::T::b"]
    ex = {t: Expect(t, rng.uniform(0.1, 2.0), passed=not t.startswith("m9")) for t in ids}
    alone = {"m1.py::test_1"}
    plan = plan_shards(ids, ex, 2, alone)
    flat = [t for s in plan.shards for t in s]
    assert sorted(flat + plan.alone) == sorted(ids) and plan.alone == ["m1.py::test_1"]
    # a class stays on one shard, in collection order
    holder = next(s for s in plan.shards if "m9.py::T::a" in s)
    assert holder.index("m9.py::T::a") + 1 == holder.index("m9.py::T::b")
    # shard order follows collection order; loads are what the plan says
    for s, load in zip(plan.shards, plan.loads, strict=True):
        assert s == sorted(s, key=ids.index)
        assert load == pytest.approx(sum(ex[t].duration for t in s))
    share = lower_bound([e.duration for e in ex.values()], 2)
    units = [u.duration for u in build_units(ids, ex, alone, split_above=share / 2)
             if not u.alone]
    assert max(plan.loads) <= (4 / 3) * brute_force(units, 2) + 1e-9
    assert plan.expected_makespan == pytest.approx(max(plan.loads) + ex["m1.py::test_1"].duration)
