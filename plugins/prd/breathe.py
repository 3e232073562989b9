"""Let the event loop's thread have the GIL while a long prd call runs in a thread.

A thread running Python keeps the GIL until the loop's thread has waited a whole
switch interval (5 ms by default, process-wide), so every `system.ping` would
wait that long. The long loops of a decomposition call `point()`; in a thread
the plugin marked with `breathing()`, every `EVERY_S` of work it sleeps a moment,
which hands the GIL to a waiting thread at once. Elsewhere (pool workers,
scripts, tests) `point()` does nothing. The clock is read only every `STRIDE`
calls, so a short call (an edit) pays almost nothing. A pass whose work per item
is a few operations goes over `slices(items)` instead: the clock is read once a
slice, and the slice is handled by one comprehension. A pass's large working
state is freed with `drain` before it returns.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

EVERY_S = 0.001
"""Work between two pauses: the loop waits at most about this long for the GIL."""
PAUSE_S = 0.0002
"""Long enough for a waiting thread to take the GIL (it is woken as soon as it is free)."""
STRIDE = 4
"""`point()` calls between two readings of the clock (a decomposition's loops do more per
point than the graph's, which go over `slices` where the work per task is small)."""
SLICE = 512
"""Items per slice of `slices`: tens of microseconds of a comprehension's work."""

T = TypeVar("T")

_local = threading.local()


class Breather:
    __slots__ = ("count", "last", "pauses")

    def __init__(self) -> None:
        self.count = self.pauses = 0
        self.last = time.perf_counter()

    def __call__(self) -> None:
        self.count += 1
        if self.count % STRIDE:
            return
        self.check()

    def check(self) -> None:
        """Pause if `EVERY_S` of work went by since the last pause."""
        now = time.perf_counter()
        if now - self.last >= EVERY_S:
            time.sleep(PAUSE_S)
            self.pauses += 1
            self.last = time.perf_counter()


def point() -> None:
    """A place in a long loop where this thread may hand the GIL over."""
    b = getattr(_local, "breather", None)
    if b is not None:
        b()


def slices(items: list[T]) -> Iterator[list[T]]:
    """`items` in slices of `SLICE`, with a place to hand the GIL over before each."""
    b = getattr(_local, "breather", None)
    for start in range(0, len(items), SLICE):
        if b is not None:
            b.check()
        yield items[start:start + SLICE]


def drain(mapping: dict[Any, Any]) -> None:
    """Empty a large dict a slice at a time when breathing: freeing 100,000 entries of a
    pass's working state at once (its lists, tuples, counters) is one cascade of
    deallocations that never offers the GIL. Elsewhere it is left to its owner."""
    b = getattr(_local, "breather", None)
    if b is None:
        return
    pop = mapping.popitem
    while mapping:
        for _ in range(min(SLICE, len(mapping))):
            pop()
        b.check()


@contextmanager
def breathing() -> Iterator[Breather]:
    """Within the block, `point()` in this thread pauses now and then."""
    prev = getattr(_local, "breather", None)
    b = _local.breather = Breather()
    try:
        yield b
    finally:
        _local.breather = prev
