"""The graph passes behind `prd.graph` and `prd.next` offer the GIL all along.

At 100,000 tasks these passes run in a thread beside the daemon's loop; a pass
that never reaches a breathing point holds the loop for a whole switch interval
at a time. Checked here by the thread's own CPU time between two breathing
points (preemption by a busy machine does not count), and the answers checked
against plain reference computations.
"""

from __future__ import annotations

import gc
import heapq
import random
import time
from collections.abc import Iterator
from typing import Any

import pytest

from catalytic.plugins.prd import breathe, graph
from catalytic.plugins.prd.answer_wire import packed_answer, release

N = 60_000
LONGEST_CPU_MS = 25.0
"""Generous: the passes breathe every few microseconds of work; what is left between two
points is the growing of a 60,000-entry table (about 3 ms). Before, `heapq.nsmallest`,
`max(.., key=..)` and the comprehensions over every task ran for 30 ms and more."""


def make_tasks(n: int, seed: int = 1, cycle_every: int = 0) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    tasks = []
    for i in range(n):
        deps = [f"T{rng.randrange(max(1, i - 50), i)}"] if i > 1 and rng.random() < 0.5 else []
        if cycle_every and i % cycle_every == 1 and i + 1 < n:
            deps.append(f"T{i + 1}")  # T(i+1) may wait for T(i): a cycle
        tasks.append({"id": f"T{i}", "parent": f"T{i - i % 20}" if i % 20 else None,
                      "dependencies": deps, "title": f"task {i}", "complexity": 1 + i % 5,
                      "priority": rng.choice(["critical", "high", "medium", "low", "odd"])})
    return tasks


class CpuGaps(breathe.Breather):
    """A breather that records the longest CPU time of this thread between two checks."""

    __slots__ = ("longest", "prev")

    def __init__(self) -> None:
        super().__init__()
        self.prev = time.thread_time()
        self.longest = 0.0

    def check(self) -> None:
        now = time.thread_time()
        self.longest = max(self.longest, now - self.prev)
        super().check()
        self.prev = time.thread_time()


@pytest.fixture
def gaps() -> Iterator[CpuGaps]:
    paused = gc.isenabled()
    gc.disable()  # as the plugin runs these (`plugin._breathing`)
    b = breathe._local.breather = CpuGaps()
    try:
        yield b
    finally:
        breathe._local.breather = None
        if paused:
            gc.enable()


def test_graph_passes_and_answers_breathe(gaps: CpuGaps) -> None:
    tasks = make_tasks(N)
    status = {t["id"]: "done" if i % 3 == 0 else "pending" for i, t in enumerate(tasks)}
    shown = [{**t, "status": status[t["id"]]} for t in tasks]
    gaps.longest, gaps.prev = 0.0, time.thread_time()  # what this test built does not count
    analysis = graph.analyse(tasks)
    picked = graph.next_tasks(tasks, status, 1000)
    answer = {"tasks": shown, **analysis}
    packed_answer(answer)
    release(answer, "tasks")
    gaps.check()
    assert answer["tasks"] == [] and len(analysis["order"]) > N // 2 and picked
    assert gaps.longest * 1000 <= LONGEST_CPU_MS, f"{gaps.longest * 1000:.1f} ms"
    assert gaps.pauses > 0


def reference_next(tasks: list[dict[str, Any]], status: dict[str, str],
                   limit: int) -> list[dict[str, Any]]:
    """`next_tasks` as one sort over every available task."""
    ids = {t["id"] for t in tasks}
    cyc = {c for comp in graph.cycles(graph.edges(tasks)) for c in comp}
    open_children = {t["parent"] for t in tasks
                     if t["parent"] is not None and status.get(t["id"], "pending")
                     not in graph.DONE}
    ready = [(st != "in-progress", graph.PRIORITY_RANK.get(t["priority"], 2),
              len(t["dependencies"]), pos, t)
             for pos, t in enumerate(tasks)
             if (st := status.get(t["id"], "pending")) in ("pending", "in-progress")
             and t["id"] not in cyc and t["id"] not in open_children
             and all(status.get(d, "pending") in graph.DONE
                     for d in t["dependencies"] if d in ids)]
    return [r[4] for r in heapq.nsmallest(limit, ready, key=lambda r: r[:4])]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_next_picks_what_a_full_sort_picks(seed: int) -> None:
    tasks = make_tasks(3000, seed, cycle_every=97)
    rng = random.Random(seed)
    status = {t["id"]: rng.choice(["pending", "pending", "in-progress", "done", "cancelled"])
              for t in tasks}
    known = graph.cycles(graph.edges(tasks))
    assert known  # the document has cycles, whose members are never offered
    by_id = {t["id"]: t for t in tasks}
    for limit in (1, 7, 1000, 5000):
        want = reference_next(tasks, status, limit)
        assert graph.next_tasks(tasks, status, limit) == want
        assert graph.next_tasks(tasks, status, limit, known_cycles=known, ids=by_id) == want


def test_drain_empties_only_in_a_breathing_thread() -> None:
    table = {i: [i] for i in range(5000)}
    breathe.drain(table)  # not breathing: left to its owner
    assert len(table) == 5000
    with breathe.breathing() as b:
        breathe.drain(table)
    assert table == {} and b.count == 0  # checked per slice, not counted as points
