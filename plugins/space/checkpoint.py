"""Reverse a chain s_{i+1} = F(s_i) of n states (emit s_{n-1} … s_0) under a space budget.

Four schedules, each run against a `Ledger` and each with a closed-form account of
its peak (states and bits) and its step count; `reverse_chain` asserts on every run
that the measured figures equal the formulas.

Model: a *cell* holds one state (`step.bits` bits). Stepping rewrites a cell in
place; a copy costs a new cell. Each nested reversal call holds one cell and one
fixed-width frame of indices (the left/first part is handled by a loop, not a call,
so calls and cells nest together and the peak has a closed form).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .ledger import Ledger, bits_for
from .steps import StepFunction

STRATEGIES = ("store-all", "sqrt", "bisection", "revolve")

Emit = Callable[[int, Any], None]


class AccountingMismatch(AssertionError):
    """A measured figure differs from its closed form: a bug, never tolerated."""


@dataclass
class ChainResult:
    strategy: str
    n: int
    slots: int | None
    step: str
    state_bits: int
    peak_states: int
    steps: int
    measured_bits: int
    formula_states: int
    formula_steps: int
    formula_bits: int
    digest: str
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out.pop("extra")
        out.update(self.extra)
        return out


# ----------------------------------------------------------------------------- formulas

def sqrt_segment(n: int) -> int:
    """Segment length c = ⌈√n⌉."""
    return math.isqrt(n - 1) + 1 if n > 1 else 1


def revolve_repetitions(n: int, slots: int) -> int:
    """The least r with C(slots + r, slots) ≥ n."""
    r = 0
    while math.comb(slots + r, slots) < n:
        r += 1
    return r


def revolve_steps(n: int, slots: int) -> int:
    """Griewank's minimum: r·n − C(s + r, r − 1)."""
    r = revolve_repetitions(n, slots)
    return r * n - (math.comb(slots + r, r - 1) if r >= 1 else 0)


def revolve_split(length: int, slots: int) -> int:
    """Where to place the next checkpoint so the schedule meets Griewank's minimum.

    With r = revolve_repetitions(length, slots), any split m with
    max(C(s+r−2, s), length − C(s−1+r, s−1)) ≤ m ≤ min(C(s+r−1, s), length − C(s+r−2, s−1))
    is optimal; we take the lower end (checked against the dynamic program in tests).
    """
    r = revolve_repetitions(length, slots)
    low = math.comb(slots + r - 2, slots) if r >= 2 else 1
    low = max(low, length - math.comb(slots - 1 + r, slots - 1), 1)
    return min(low, length - 1)


def bisection_steps(n: int) -> int:
    """S(n) = ⌊n/2⌋ + S(⌈n/2⌉) + S(⌊n/2⌋), S(1) = 0 (two sizes a level: O(log n) work)."""
    memo: dict[int, int] = {0: 0, 1: 0}

    def s(length: int) -> int:
        if length not in memo:
            left = length // 2
            memo[length] = left + s(length - left) + s(left)
        return memo[length]

    return s(n)


def frame_bits(strategy: str, n: int, slots: int | None) -> int:
    """Width of one reversal frame (position and length; revolve adds the slot count)."""
    width = 2 * bits_for(n + 1)
    if strategy == "revolve":
        width += bits_for((slots or 1) + 1)
    return width


def counter_bits(strategy: str, n: int) -> int:
    """Loop counters of the non-recursive schedules."""
    return {"store-all": 1, "sqrt": 2}.get(strategy, 0) * bits_for(n + 1)


def formula(strategy: str, n: int, state_bits: int, slots: int | None = None) -> dict[str, int]:
    """Closed-form peak states, steps and peak bits of one schedule."""
    if strategy == "store-all":
        states, steps = n, n - 1
        bits = states * state_bits + counter_bits(strategy, n)
    elif strategy == "sqrt":
        c = sqrt_segment(n)
        k = -(-n // c)
        last = n - (k - 1) * c
        states = max(k + 1 if k >= 2 else 1, k - 1 + last, k - 2 + c if k >= 2 else 0)
        steps = (k - 1) * c + n - k
        bits = states * state_bits + counter_bits(strategy, n)
    elif strategy == "bisection":
        states = 1 + (n - 1).bit_length()
        steps = bisection_steps(n)
        bits = states * (state_bits + frame_bits(strategy, n, None))
    elif strategy == "revolve":
        if not slots or slots < 1:
            raise ValueError("revolve needs slots ≥ 1")
        states = min(n, slots + 1)
        steps = revolve_steps(n, slots)
        bits = states * (state_bits + frame_bits(strategy, n, slots))
    else:
        raise ValueError(f"unknown strategy {strategy!r}; choose from {', '.join(STRATEGIES)}")
    return {"states": states, "steps": steps, "bits": bits}


# ----------------------------------------------------------------------------- schedules

class _Run:
    """Cells and step counting for one schedule run."""

    def __init__(self, step: StepFunction, emit: Emit, ledger: Ledger) -> None:
        self.step = step
        self.emit_fn = emit
        self.ledger = ledger
        self.steps = 0
        self.cells = 0
        self.peak_cells = 0
        self._next_id = 0
        self.expect = -1

    def new_cell(self) -> int:
        self._next_id += 1
        self.ledger.alloc(("cell", self._next_id), self.step.bits, "states")
        self.cells += 1
        self.peak_cells = max(self.peak_cells, self.cells)
        return self._next_id

    def drop_cell(self, cid: int) -> None:
        self.ledger.free(("cell", cid))
        self.cells -= 1

    def advance(self, state: Any, count: int) -> Any:
        fn = self.step.fn
        for _ in range(count):
            state = fn(state)
        self.steps += count
        return state

    def emit(self, index: int, state: Any) -> None:
        if index != self.expect:
            raise AccountingMismatch(f"emitted s_{index} where s_{self.expect} was due")
        self.expect -= 1
        self.emit_fn(index, state)


def _store_all(run: _Run, s0: Any, n: int) -> None:
    cells = [(run.new_cell(), s0)]
    for _ in range(1, n):
        cells.append((run.new_cell(), run.advance(cells[-1][1], 1)))
    for i in range(n - 1, -1, -1):
        cid, state = cells.pop()
        run.emit(i, state)
        run.drop_cell(cid)


def _sqrt(run: _Run, s0: Any, n: int) -> None:
    c = sqrt_segment(n)
    k_count = -(-n // c)
    ckpts = [(run.new_cell(), s0)]
    if k_count >= 2:
        work_id, work = run.new_cell(), s0
        for _ in range(1, k_count):
            work = run.advance(work, c)
            ckpts.append((run.new_cell(), work))
        run.drop_cell(work_id)
    for k in range(k_count - 1, -1, -1):
        length = min(c, n - k * c)
        buf = [ckpts.pop()]  # the checkpoint cell becomes the buffer's first entry
        for _ in range(1, length):
            buf.append((run.new_cell(), run.advance(buf[-1][1], 1)))
        for j in range(length - 1, -1, -1):
            cid, state = buf.pop()
            run.emit(k * c + j, state)
            run.drop_cell(cid)


def _bisect(run: _Run, cell: tuple[int, Any], start: int, length: int, fb: int) -> None:
    run.ledger.alloc(("frame", cell[0]), fb, "frames")
    while length > 1:
        left = length // 2
        wid = run.new_cell()
        _bisect(run, (wid, run.advance(cell[1], left)), start + left, length - left, fb)
        run.drop_cell(wid)
        length = left
    run.emit(start, cell[1])
    run.ledger.free(("frame", cell[0]))


def _revolve(run: _Run, cell: tuple[int, Any], start: int, length: int, slots: int,
             fb: int) -> None:
    """Binomial checkpointing: the split keeps every step within r repetitions.

    The recursion of the schedule (one level per checkpoint in use, up to n − 1 of them)
    runs on an explicit stack of frames, so any number of slots a caller may ask for
    works; the ledger accounts each frame exactly as the recursive form would.
    """
    # a frame: [cell, start, length, slots, child cell id or None, split]
    stack: list[list[Any]] = [[cell, start, length, slots, None, 0]]
    run.ledger.alloc(("frame", cell[0]), fb, "frames")
    while stack:
        frame = stack[-1]
        f_cell, f_start, f_length, f_slots, child, split = frame
        if child is not None:  # back from the child: its part is reversed
            run.drop_cell(child)
            f_length = frame[2] = split
            frame[4] = None
        if f_length > 1:
            split = revolve_split(f_length, f_slots)
            wid = run.new_cell()
            frame[4], frame[5] = wid, split
            sub = (wid, run.advance(f_cell[1], split))
            run.ledger.alloc(("frame", wid), fb, "frames")
            stack.append([sub, f_start + split, f_length - split, f_slots - 1, None, 0])
        else:
            run.emit(f_start, f_cell[1])
            run.ledger.free(("frame", f_cell[0]))
            stack.pop()


def reverse_chain(strategy: str, n: int, step: StepFunction, *, slots: int | None = None,
                  seed: int = 0, emit: Emit | None = None) -> ChainResult:
    """Run one schedule, check every figure against its closed form, and return them."""
    if n < 1:
        raise ValueError("n must be at least 1")
    if strategy == "revolve" and (slots is None or slots < 1):
        raise ValueError("revolve needs slots ≥ 1")
    expected = formula(strategy, n, step.bits, slots)
    ledger = Ledger()
    digest = hashlib.blake2b(digest_size=16)

    def sink(index: int, state: Any) -> None:
        digest.update(repr(state).encode())
        if emit is not None:
            emit(index, state)

    run = _Run(step, sink, ledger)
    run.expect = n - 1
    counters = counter_bits(strategy, n)
    if counters:
        ledger.alloc("counters", counters, "counters")
    s0 = step.initial(seed)
    if strategy == "store-all":
        _store_all(run, s0, n)
    elif strategy == "sqrt":
        _sqrt(run, s0, n)
    elif strategy == "bisection":
        cid = run.new_cell()
        _bisect(run, (cid, s0), 0, n, frame_bits(strategy, n, None))
        run.drop_cell(cid)
    else:
        assert slots is not None
        cid = run.new_cell()
        _revolve(run, (cid, s0), 0, n, slots, frame_bits(strategy, n, slots))
        run.drop_cell(cid)
    if counters:
        ledger.free("counters")
    if run.expect != -1 or ledger.current != 0:
        raise AccountingMismatch(f"{strategy}: run ended with s_{run.expect} due, "
                                 f"{ledger.current} bits still held")
    measured = {"states": run.peak_cells, "steps": run.steps, "bits": ledger.peak}
    for key, value in expected.items():
        if measured[key] != value:
            raise AccountingMismatch(f"{strategy} n={n} slots={slots}: measured {key} "
                                     f"{measured[key]} != formula {value}")
    return ChainResult(strategy, n, slots, step.name, step.bits, run.peak_cells, run.steps,
                       ledger.peak, expected["states"], expected["steps"], expected["bits"],
                       digest.hexdigest(), {"peak_by_category": ledger.peak_by_category})
