"""Units of work, the lower bound and a static LPT packing.

Why units: some suites depend on order (a class whose first test switches global
state), so each class's (or module's module-level) tests stay together, in
collection order, on one worker. Units are packed longest-expected-first; a
unit is split into single tests only when history shows its tests pass apart.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from catalytic.plugins.testrun.estimate import CPU, IO, MEMORY, Expect, class_of, file_of


@dataclass
class Unit:
    """Tests that run together, in order, on one worker."""

    key: str
    tests: list[str]
    duration: float
    kind: str = CPU
    rss: int = 0
    alone: bool = False
    order: int = 0
    """Position of the unit's first test in collection order (stable tie-break)."""
    durations: list[float] = field(default_factory=list)

    @property
    def module(self) -> str:
        return file_of(self.tests[0])


def matches_any(nodeid: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(nodeid, p) for p in patterns)


def _unit(key: str, tests: list[str], expects: Mapping[str, Expect], alone: bool,
          order: int) -> Unit:
    ex = [expects[t] for t in tests]
    mem = [e.rss for e in ex if e.kind == MEMORY]
    cpu_time = sum(e.duration for e in ex if e.kind == CPU)
    io_time = sum(e.duration for e in ex if e.kind == IO)
    kind = MEMORY if mem else (CPU if cpu_time >= io_time else IO)
    return Unit(key, tests, sum(e.duration for e in ex), kind, max(mem, default=0), alone,
                order, [e.duration for e in ex])


def build_units(nodeids: Sequence[str], expects: Mapping[str, Expect],
                alone: Iterable[str] = (), split_above: float | None = None) -> list[Unit]:
    """Group tests by class (or module for module-level tests), keeping collection order.

    Tests in `alone` become units of their own that run with no other test. A unit
    whose expected duration exceeds `split_above` is split into single tests when
    every test in it last passed and none is marked order-dependent.
    """
    alone_set = set(alone)
    groups: dict[str, list[str]] = {}
    first: dict[str, int] = {}
    units: list[Unit] = []
    for i, nid in enumerate(nodeids):
        if nid in alone_set:
            units.append(_unit(nid, [nid], expects, True, i))
            continue
        key = class_of(nid)
        if key not in groups:
            groups[key] = []
            first[key] = i
        groups[key].append(nid)
    for key, tests in groups.items():
        unit = _unit(key, tests, expects, False, first[key])
        splittable = (split_above is not None and len(tests) > 1
                      and unit.duration > split_above
                      and all(expects[t].passed and not expects[t].order_dependent
                              for t in tests))
        if splittable:
            units.extend(_unit(t, [t], expects, False, first[key] + j)
                         for j, t in enumerate(tests))
        else:
            units.append(unit)
    units.sort(key=lambda u: u.order)
    return units


def lower_bound(durations: Iterable[float], workers: int) -> float:
    """max(total / workers, longest): no schedule on `workers` machines can beat it."""
    ds = list(durations)
    if not ds:
        return 0.0
    return max(sum(ds) / max(1, workers), max(ds))


def efficiency(lower: float, makespan: float) -> float:
    """lower bound / makespan (1.0 is optimal)."""
    return 1.0 if makespan <= 0 else min(1.0, lower / makespan)


def lpt_pack(durations: Sequence[float], workers: int) -> tuple[float, list[list[int]]]:
    """Classic LPT on identical machines: (makespan, item indices per machine)."""
    loads = [0.0] * max(1, workers)
    bins: list[list[int]] = [[] for _ in loads]
    for i in sorted(range(len(durations)), key=lambda k: (-durations[k], k)):
        m = min(range(len(loads)), key=lambda w: (loads[w], w))
        loads[m] += durations[i]
        bins[m].append(i)
    return max(loads, default=0.0), bins


def lpt_order(units: Sequence[Unit]) -> list[Unit]:
    """Longest expected first; collection order breaks ties."""
    return sorted(units, key=lambda u: (-u.duration, u.order))


@dataclass
class ShardPlan:
    """A static plan for shards that cannot ask for work (jobs on a cluster)."""

    shards: list[list[str]]
    """Node ids per shard, units in collection order (order does not change a static makespan)."""
    loads: list[float]
    alone: list[str]
    """Run-alone tests: a last phase, one job, after every shard finished."""
    expected_makespan: float


def plan_shards(nodeids: Sequence[str], expects: Mapping[str, Expect], shards: int,
                alone: Iterable[str] = ()) -> ShardPlan:
    """LPT-pack units onto `shards` bins; run-alone tests go to a phase of their own."""
    durations = [expects[t].duration for t in nodeids]
    share = lower_bound(durations, shards)
    units = build_units(nodeids, expects, alone, split_above=share / 2)
    packed = [u for u in units if not u.alone]
    alone_units = [u for u in units if u.alone]
    _, bins = lpt_pack([u.duration for u in packed], shards)
    loads = [sum(packed[i].duration for i in b) for b in bins]
    plan = [[t for i in sorted(b, key=lambda k: packed[k].order) for t in packed[i].tests]
            for b in bins]
    alone_ids = [t for u in sorted(alone_units, key=lambda u: u.order) for t in u.tests]
    tail = sum(u.duration for u in alone_units)
    return ShardPlan(plan, loads, alone_ids, max(loads, default=0.0) + tail)
