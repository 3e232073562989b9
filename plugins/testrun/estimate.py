"""Expected duration, memory and resource class of every test, known or not.

Why: an unseen test still has to be placed; its parametrized siblings, its class
and its file are usually the best predictors, then the suite's median.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from catalytic.plugins.testrun.history import TestStats

DEFAULT_DURATION = 0.05
"""Guess for a test when nothing at all is known (no history for the root)."""

CPU = "cpu"
IO = "io"
MEMORY = "memory"
KINDS = (CPU, IO, MEMORY)


@dataclass(frozen=True)
class Expect:
    """What the scheduler believes about one test."""

    nodeid: str
    duration: float
    rss: int = 0
    kind: str = CPU
    known: bool = False
    order_dependent: bool = False
    passed: bool = False
    """Its last recorded outcome was a pass (so it is known to pass apart from its unit)."""


def file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def class_of(nodeid: str) -> str:
    """The node id of the test's class (or its file for a module-level test)."""
    parts = nodeid.split("::")
    return "::".join(parts[:-1]) if len(parts) > 2 else parts[0]


def function_of(nodeid: str) -> str:
    """The node id without its parametrization: `f.py::test_x[1]` -> `f.py::test_x`."""
    base, sep, _ = nodeid.partition("[")
    return base if sep else nodeid


def classify(stats: TestStats, memory_heavy_bytes: int, cpu_ratio: float = 0.5) -> str:
    """cpu-bound, io-bound (mostly waiting) or memory-heavy, from measurements."""
    if stats.rss >= memory_heavy_bytes:
        return MEMORY
    if stats.ewma <= 0:
        return CPU
    return CPU if stats.cpu / stats.ewma >= cpu_ratio else IO


def estimate(nodeids: Sequence[str], history: Mapping[str, TestStats],
             memory_heavy_bytes: int = 256 << 20) -> dict[str, Expect]:
    """An `Expect` for each node id: its own history, else siblings, class, file, median."""
    groups: dict[str, list[float]] = defaultdict(list)
    for s in history.values():
        for group in {"f" + function_of(s.nodeid), "c" + class_of(s.nodeid),
                      "m" + file_of(s.nodeid)}:
            groups[group].append(s.ewma)
    median = statistics.median([s.ewma for s in history.values()]) if history \
        else DEFAULT_DURATION
    out: dict[str, Expect] = {}
    for nid in nodeids:
        known = history.get(nid)
        if known is not None:
            out[nid] = Expect(nid, known.ewma, known.rss, classify(known, memory_heavy_bytes),
                              True, known.order_dependent, known.outcome == "passed")
            continue
        guess = median
        for key in ("f" + function_of(nid), "c" + class_of(nid), "m" + file_of(nid)):
            if groups.get(key):
                guess = statistics.median(groups[key])
                break
        out[nid] = Expect(nid, guess)
    return out
