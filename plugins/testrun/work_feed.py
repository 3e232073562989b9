"""The work feed of a local run: which units a worker that asks for work gets next.

Why dynamic: a static split strands a queue behind one slow test; handing out
work longest-expected-first to whichever worker is free keeps the tail short.
The rules: cpu-bound units run at most one per core, io-bound ones may overlap
beyond that, memory-heavy ones only while the sum of their expected peak RSS
stays under the budget, and a run-alone unit runs with nothing else. Short units
are batched so that the per-request cost is paid once per batch, not per test.
Pure logic with no I/O, so it is simulated (`simulate`) to build plans and tests.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field

from catalytic.plugins.testrun.estimate import CPU, MEMORY
from catalytic.plugins.testrun.schedule import Unit, lpt_order

WAIT = "wait"
"""`next_batch` answer: nothing can start now; ask again when a worker finishes."""


@dataclass
class Batch:
    units: list[Unit]

    @property
    def tests(self) -> list[str]:
        return [t for u in self.units for t in u.tests]

    @property
    def duration(self) -> float:
        return sum(u.duration for u in self.units)


@dataclass
class _Slot:
    cpu: bool = False
    rss: int = 0
    alone: bool = False
    module: str = ""


@dataclass
class WorkFeed:
    """Hands out units LPT-first under the resource rules."""

    units: Sequence[Unit]
    workers: int
    cores: int
    memory_budget: int
    batch_target: float = 0.25
    """Batch short units until a batch is expected to take about this long (seconds)."""
    tie: float = 0.05
    """Expected durations within this fraction count as tied (then prefer the same module)."""
    tie_scan: int = 64
    """How many tied candidates are looked at for one of the worker's module (bounded cost)."""
    queue: list[Unit] = field(init=False)
    _left: float = field(init=False, default=0.0)
    busy: dict[str, _Slot] = field(init=False, default_factory=dict)
    last_module: dict[str, str] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.queue = lpt_order(self.units)
        self._left = sum(u.duration for u in self.queue)

    @property
    def done(self) -> bool:
        return not self.queue and not self.busy

    def remaining(self) -> float:
        """Expected seconds of work still queued."""
        return max(0.0, self._left)

    def _take(self, i: int) -> Unit:
        u = self.queue.pop(i)
        self._left -= u.duration
        return u

    def _admissible(self, u: Unit) -> bool:
        slots = list(self.busy.values())
        if any(s.alone for s in slots):
            return False
        if u.alone:
            return not slots
        if u.kind == CPU and sum(s.cpu for s in slots) >= self.cores:
            return False
        if u.kind == MEMORY:
            used = sum(s.rss for s in slots)
            if used and used + u.rss > self.memory_budget:
                return False
        return True

    def _pick(self, worker: str) -> int | None:
        if self.queue and self.queue[0].alone:
            # A run-alone unit at the head drains the others first, then runs.
            return 0 if self._admissible(self.queue[0]) else None
        best = None
        scanned = 0
        for i, u in enumerate(self.queue):
            if u.alone or not self._admissible(u):
                continue
            if best is None:
                best = i
                continue
            scanned += 1
            if u.duration < self.queue[best].duration * (1 - self.tie) or (
                    scanned > self.tie_scan):
                break
            if u.module == self.last_module.get(worker) != self.queue[best].module:
                best = i
                break
        return best

    def next_batch(self, worker: str) -> Batch | str | None:
        """Units for `worker` (whose previous batch is finished), `WAIT`, or None when done."""
        self.busy.pop(worker, None)
        if not self.queue:
            return None
        i = self._pick(worker)
        if i is None:
            return WAIT
        first = self._take(i)
        units = [first]
        slot = _Slot(first.kind == CPU, first.rss if first.kind == MEMORY else 0, first.alone,
                     first.module)
        self.busy[worker] = slot
        target = min(self.batch_target, self.remaining() / max(1, self.workers * 4))
        total = first.duration
        j = self._first_fitting(target - total)
        while not first.alone and total < target and j < len(self.queue):
            u = self.queue[j]
            if u.alone or u.duration + total > max(target, 0.0) or (
                    u.kind == MEMORY and not self._fits_memory(u, slot)) or (
                    u.kind == CPU and not slot.cpu and not self._admissible(u)):
                j += 1
                continue
            units.append(self._take(j))
            total += u.duration
            slot.cpu = slot.cpu or u.kind == CPU
            if u.kind == MEMORY:
                slot.rss = max(slot.rss, u.rss)
        self.last_module[worker] = units[-1].module
        return Batch(units)

    def _first_fitting(self, room: float) -> int:
        """Index of the first queued unit expected to take at most `room` (queue is LPT-sorted)."""
        lo, hi = 0, len(self.queue)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.queue[mid].duration > room:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def _fits_memory(self, u: Unit, slot: _Slot) -> bool:
        others = sum(s.rss for w, s in self.busy.items() if s is not slot)
        return others + max(slot.rss, u.rss) <= self.memory_budget or not others

    def release(self, worker: str) -> None:
        """The worker is gone (or idle): its resources are free again."""
        self.busy.pop(worker, None)

    def requeue(self, units: Sequence[Unit]) -> None:
        """Put units back (e.g. the rest of a crashed worker's batch), keeping LPT order."""
        self.queue = lpt_order([*self.queue, *units])
        self._left += sum(u.duration for u in units)


@dataclass
class Plan:
    makespan: float
    workers: list[list[str]]
    """Node ids in the order each simulated worker would run them."""
    peak_memory: int = 0
    intervals: list[tuple[float, float, str, Unit]] = field(default_factory=list)
    """(start, end, worker, unit) for every unit, in simulated time."""


def simulate(units: Sequence[Unit], workers: int, cores: int, memory_budget: int,
             batch_target: float = 0.25) -> Plan:
    """Run the work feed against expected durations; what `testrun.plan` shows."""
    d = WorkFeed(units, workers, cores, memory_budget, batch_target)
    names = [f"w{i}" for i in range(max(1, workers))]
    order: dict[str, list[str]] = {n: [] for n in names}
    events: list[tuple[float, int, str]] = [(0.0, i, n) for i, n in enumerate(names)]
    waiting: list[str] = []
    intervals: list[tuple[float, float, str, Unit]] = []
    now = 0.0
    peak = 0
    seq = len(names)
    while events:
        now, _, w = heapq.heappop(events)
        for ask in [w, *waiting]:
            got = d.next_batch(ask) if ask == w else _retry(d, ask)
            if ask in waiting and got != WAIT:
                waiting.remove(ask)
            if isinstance(got, Batch):
                order[ask].extend(got.tests)
                peak = max(peak, sum(s.rss for s in d.busy.values()))
                t = now
                for u in got.units:
                    intervals.append((t, t + u.duration, ask, u))
                    t += u.duration
                seq += 1
                heapq.heappush(events, (now + got.duration, seq, ask))
            elif got == WAIT and ask not in waiting:
                waiting.append(ask)
    return Plan(now, [order[n] for n in names], peak, intervals)


def _retry(d: WorkFeed, worker: str) -> Batch | str | None:
    """Ask again for an idle worker (it holds no batch, so nothing is released)."""
    return d.next_batch(worker)
