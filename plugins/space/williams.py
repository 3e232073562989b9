"""Williams' simulation (TIME[t] ⊆ SPACE[√(t log t)]) end to end at toy size.

A small block-respecting machine: a tape of `blocks` blocks of `cells` bits, a control
state of `qbits` bits, and an oblivious head — time block i (of `cells` steps) sweeps
tape block blk(i) left to right, blocks visited in a zig-zag. The value of time block i
is (control state, contents of tape block blk(i)) after it; it depends on the value of
time block i − 1 (for the control state) and of the last earlier time block that visited
the same tape block (for the contents). Unfolding that computation graph from the last
time block gives an implicit Tree Evaluation instance of height T (the number of time
blocks) with b = qbits + cells, evaluated by the same Cook–Mertz code.

Beyond toy sizes the space curve is *computed* from the verified Cook–Mertz formula
(`computed_curve`), never measured; the Cook–Mertz time (8b + 4)^h makes this
simulation exponential-time — neither paper gives a polynomial-time √t-space simulation.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from .classical import classical_evaluate
from .cookmertz import CookMertz, cm_formula


@dataclass
class ToyMachine:
    """δ(q, symbol) → (q', symbol'); oblivious zig-zag head; `time_blocks` blocks of `cells`."""

    qbits: int
    cells: int
    blocks: int
    time_blocks: int
    delta: list[tuple[int, int]] = field(default_factory=list)
    tape: list[int] = field(default_factory=list)
    q0: int = 0

    @classmethod
    def random(cls, qbits: int, cells: int, blocks: int, time_blocks: int,
               seed: int) -> ToyMachine:
        rng = random.Random(seed)
        q_count = 1 << qbits
        delta = [(rng.randrange(q_count), rng.randrange(2)) for _ in range(2 * q_count)]
        tape = [rng.randrange(2) for _ in range(blocks * cells)]
        return cls(qbits, cells, blocks, time_blocks, delta, tape, rng.randrange(q_count))

    @property
    def steps(self) -> int:
        return self.cells * self.time_blocks

    def block_of(self, i: int) -> int:
        """Tape block visited in time block i (zig-zag 0, 1, …, B−1, B−2, …, 0, 1, …)."""
        if self.blocks == 1:
            return 0
        period = 2 * (self.blocks - 1)
        j = i % period
        return j if j < self.blocks else period - j

    def previous_visit(self, i: int) -> int | None:
        """The last time block before i on the same tape block, if any."""
        target = self.block_of(i)
        for j in range(i - 1, -1, -1):
            if self.block_of(j) == target:
                return j
        return None

    def run_block(self, q: int, content: int) -> tuple[int, int]:
        """Run one time block: `cells` steps sweeping a block whose bits are `content`."""
        for s in range(self.cells):
            sym = (content >> s) & 1
            q, new = self.delta[2 * q + sym]
            content = (content & ~(1 << s)) | (new << s)
        return q, content

    def block_content(self, beta: int) -> int:
        bits = self.tape[beta * self.cells:(beta + 1) * self.cells]
        return sum(bit << s for s, bit in enumerate(bits))

    def run_direct(self) -> int:
        """Plain simulation; the value (state | last block's contents << qbits)."""
        contents = [self.block_content(beta) for beta in range(self.blocks)]
        q = self.q0
        for i in range(self.time_blocks):
            beta = self.block_of(i)
            q, contents[beta] = self.run_block(q, contents[beta])
        return q | (contents[self.block_of(self.time_blocks - 1)] << self.qbits)


class WilliamsInstance:
    """The computation graph of a ToyMachine as an implicit Tree Evaluation instance."""

    def __init__(self, machine: ToyMachine) -> None:
        self.machine = machine
        self.h = machine.time_blocks
        self.b = machine.qbits + machine.cells
        self._label_cache: tuple[int, tuple[str, int]] = (0, ("", 0))

    def label(self, u: int) -> tuple[str, int]:
        """What tree node u stands for: ("blk", i), ("q0", 0), ("init", β) or ("dummy", 0)."""
        if self._label_cache[0] == u:
            return self._label_cache[1]
        mach = self.machine
        lab: tuple[str, int] = ("blk", mach.time_blocks - 1)
        for shift in range(u.bit_length() - 2, -1, -1):
            if lab[0] != "blk":
                lab = ("dummy", 0)
                break
            i = lab[1]
            if (u >> shift) & 1 == 0:
                lab = ("blk", i - 1) if i > 0 else ("q0", 0)
            else:
                prev = mach.previous_visit(i)
                lab = ("blk", prev) if prev is not None else ("init", mach.block_of(i))
        self._label_cache = (u, lab)
        return lab

    def _value_of_const(self, lab: tuple[str, int]) -> int:
        if lab[0] == "q0":
            return self.machine.q0
        if lab[0] == "init":
            return self.machine.block_content(lab[1]) << self.machine.qbits
        return 0

    def const(self, u: int) -> int | None:
        lab = self.label(u)
        return None if lab[0] == "blk" else self._value_of_const(lab)

    def leaf(self, u: int) -> int:
        return self._value_of_const(self.label(u))

    def node(self, u: int, a: int, c: int) -> int:
        lab = self.label(u)
        if lab[0] != "blk":
            return self._value_of_const(lab)
        qmask = (1 << self.machine.qbits) - 1
        q, content = self.machine.run_block(a & qmask, c >> self.machine.qbits)
        return q | (content << self.machine.qbits)


def simulate(qbits: int = 1, cells: int = 1, blocks: int = 2, time_blocks: int = 4,
             seed: int = 0) -> dict[str, Any]:
    """Run the toy machine directly, by classical tree evaluation and by Cook–Mertz."""
    machine = ToyMachine.random(qbits, cells, blocks, time_blocks, seed)
    inst = WilliamsInstance(machine)
    direct = machine.run_direct()
    classical = classical_evaluate(inst)
    cm = CookMertz(inst, seed=seed).evaluate()
    if not direct == classical["value"] == cm["value"]:
        raise AssertionError(f"williams toy: direct {direct}, classical {classical['value']}, "
                             f"cook-mertz {cm['value']}")
    return {"steps": machine.steps, "h": inst.h, "b": inst.b, "value": cm["value"],
            "direct_value": direct, "correct": True,
            "measured_bits": cm["measured_bits"], "formula_bits": cm["formula_bits"],
            "classical_bits": classical["measured_bits"],
            "registers_restored": cm["registers_restored"],
            "leaf_visits": cm["leaf_visits"], "rounds": cm["rounds"],
            "direct_tape_bits": machine.blocks * machine.cells + qbits,
            "wall_s": cm["wall_s"], "source": "measured"}


def computed_curve(ts: list[int], qbits: int = 1) -> list[dict[str, Any]]:
    """Bits from the verified formula at each t, best over a scan of block sizes; not measured.

    h = ⌈t / cells⌉ time blocks, b = qbits + cells; our registers hold b field elements
    of ⌈log2 p⌉ bits, so this curve grows as √t · log t. Williams' √(t log t) needs the
    refined O(b + h log b) procedure (Goldreich's exposition), shown for reference.
    """
    out = []
    for t in ts:
        root = math.sqrt(t)
        sizes = {max(1, round(root * 2 ** (e / 8))) for e in range(-40, 25)}
        best = min((cm_formula(-(-t // s), qbits + s), s) for s in sizes)
        out.append({"t": t, "cells": best[1], "bits": best[0],
                    "sqrt_t_log_t": math.sqrt(t * math.log2(t)), "source": "computed"})
    return out
