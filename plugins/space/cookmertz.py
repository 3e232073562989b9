"""Cook–Mertz Tree Evaluation in O((h + b) · log b) bits (STOC 2024; Goldreich's exposition).

Three shared registers of b elements of GF(p) start with arbitrary contents. `Add(u, ±1,
out)` adds ±(bits of u's value) into register `out` and leaves the other two as it found
them. For an internal node it uses the other two registers as its children's outputs:
in round j = 1 … m it scales them by ω (so they hold ω^j·τ), adds the children's values
into them (x + ω^j·τ), adds (±1/m)·P_t(x + ω^j·τ) into out[t] for every output bit t
(P_t is the multilinear extension of the node's t-th output bit, streamed from the
read-only table), then subtracts the children again. P_t restricted to the line x + zτ
has degree ≤ 2b < m, so the m rounds sum to exactly P_t(x) = bit t, and after m
scalings by ω the registers are back to τ. Every node visit makes 4m child visits: time
grows as (8b + 4)^h.

The evaluator is iterative over preallocated fixed-width frames (round j, phase, sign,
output register) so the space bound holds by construction.
"""

from __future__ import annotations

import random
import time
from typing import Any

from .field import Field, field_for
from .ledger import Ledger, bits_for
from .tree import Instance

PHASE_BITS = 3  # phases 0..6 of one round
FRAME_FIXED = PHASE_BITS + 1 + 2  # + sign bit + output-register index


def frame_bits(b: int) -> int:
    return bits_for(2 * b + 2) + FRAME_FIXED


def cm_formula(h: int, b: int) -> int:
    """Peak bits: 3 registers, h frames, index, streaming scratch, read-out of the root."""
    w = field_for(b).width
    registers = 3 * b * w
    index = (h + 1) + bits_for(h + 1)
    stream = (2 * b + 2 * w) if h > 0 else 0
    readout = b * w + b  # the root register's starting contents, and the value read off
    return registers + h * frame_bits(b) + index + stream + readout


def cm_counts(h: int, b: int) -> dict[str, int]:
    """Exact visit counts on an instance without constant nodes (two root calls)."""
    m = 2 * b + 1
    internal = 2 * sum((4 * m) ** d for d in range(h))
    passes = m * internal
    return {"leaf_visits": 2 * (4 * m) ** h, "node_visits": internal, "rounds": passes,
            "extension_evals": passes * b, "table_reads": passes * (1 << (2 * b))}


def cm_work(h: int, b: int) -> int:
    """Work units (leaf adds + multiply-adds of the streamed extensions) for the refusal."""
    c = cm_counts(h, b)
    return c["leaf_visits"] * b + c["table_reads"] * (b + 2)


class CookMertz:
    """One evaluation run over an instance, its registers and a ledger."""

    def __init__(self, inst: Instance, registers: list[list[int]] | None = None,
                 seed: int = 0, ledger: Ledger | None = None) -> None:
        self.inst = inst
        self.h, self.b = inst.h, inst.b
        self.f: Field = field_for(self.b)
        p = self.f.p
        if registers is None:
            rng = random.Random(seed ^ 0x5EED)
            registers = [[rng.randrange(p) for _ in range(self.b)] for _ in range(3)]
        if len(registers) != 3 or any(len(r) != self.b for r in registers):
            raise ValueError(f"need 3 registers of {self.b} field elements")
        self.regs = registers
        self.ledger = ledger or Ledger()
        self.counts = dict.fromkeys(("leaf_visits", "node_visits", "rounds",
                                     "extension_evals", "table_reads"), 0)

    def _add_value(self, out: int, value: int, sign: int) -> None:
        """regs[out] += sign · bits(value)."""
        reg, p = self.regs[out], self.f.p
        for t in range(self.b):
            if (value >> t) & 1:
                reg[t] = (reg[t] + sign) % p

    def _stream(self, u: int, out: int, in1: int, in2: int, sign: int) -> None:
        """regs[out][t] += sign/m · P_t(regs[in1], regs[in2]) for every output bit t."""
        b, p = self.b, self.f.p
        k = 1 << b
        y, z, acc = self.regs[in1], self.regs[in2], self.regs[out]
        coef = self.f.m_inv if sign == 1 else p - self.f.m_inv
        node = self.inst.node
        self.ledger.alloc("stream", 2 * b + 2 * self.f.width, "scratch")
        for a in range(k):
            wa = coef
            for i in range(b):
                wa = wa * (y[i] if (a >> i) & 1 else 1 - y[i]) % p
            for c in range(k):
                wgt = wa
                for i in range(b):
                    wgt = wgt * (z[i] if (c >> i) & 1 else 1 - z[i]) % p
                v = node(u, a, c)
                for t in range(b):
                    if (v >> t) & 1:
                        acc[t] = (acc[t] + wgt) % p
        self.ledger.free("stream")
        self.counts["rounds"] += 1
        self.counts["extension_evals"] += b
        self.counts["table_reads"] += k * k

    def add(self, sign: int, out: int) -> None:
        """Add sign · value(root) into regs[out]; the other registers end as they began."""
        inst, h, f = self.inst, self.h, self.f
        p, m, omega = f.p, f.m, f.omega
        if h == 0:
            self.counts["leaf_visits"] += 1
            return self._add_value(out, inst.leaf(1), sign)
        fixed = inst.const(1)
        if fixed is not None:
            return self._add_value(out, fixed, sign)
        fj, fphase, fsign, fout = [0] * h, [0] * h, [0] * h, [0] * h  # preallocated frames
        width = frame_bits(self.b)
        led = self.ledger
        led.alloc(("frame", 0), width, "frames")
        fj[0], fphase[0], fsign[0], fout[0] = 1, 0, sign, out
        self.counts["node_visits"] += 1
        u, d = 1, 0
        while d >= 0:
            ph, o = fphase[d], fout[d]
            in1, in2 = (o + 1) % 3, (o + 2) % 3
            if ph == 0:  # start of round j: registers in1, in2 go from ω^{j-1}τ to ω^jτ
                for r in (self.regs[in1], self.regs[in2]):
                    for t in range(self.b):
                        r[t] = r[t] * omega % p
                fphase[d] = 1
            elif ph == 3:
                self._stream(u, o, in1, in2, fsign[d])
                fphase[d] = 4
            elif ph == 6:  # end of round j
                if fj[d] == m:
                    led.free(("frame", d))
                    d, u = d - 1, u >> 1
                else:
                    fj[d], fphase[d] = fj[d] + 1, 0
            else:  # phases 1, 2 add the children; 5, 4 subtract them again
                child = 2 * u if ph in (1, 5) else 2 * u + 1
                csign = 1 if ph in (1, 2) else -1
                cout = in1 if ph in (1, 5) else in2
                fphase[d] = ph + 1
                if d + 1 == h:
                    self.counts["leaf_visits"] += 1
                    self._add_value(cout, inst.leaf(child), csign)
                    continue
                fixed = inst.const(child)
                if fixed is not None:
                    self._add_value(cout, fixed, csign)
                    continue
                d, u = d + 1, child
                led.alloc(("frame", d), width, "frames")
                fj[d], fphase[d], fsign[d], fout[d] = 1, 0, csign, cout
                self.counts["node_visits"] += 1
        return None

    def evaluate(self) -> dict[str, Any]:
        """Read the root's value off register 0, then subtract it again (all restored)."""
        start = time.perf_counter()
        b, w, led = self.b, self.f.width, self.ledger
        before = [list(r) for r in self.regs]
        led.alloc("registers", 3 * b * w, "registers")
        led.alloc("index", (self.h + 1) + bits_for(self.h + 1), "index")
        led.alloc("snapshot", b * w, "readout")
        snapshot = list(self.regs[0])
        self.add(1, 0)
        led.alloc("value", b, "readout")
        value = 0
        for t in range(b):
            bit = (self.regs[0][t] - snapshot[t]) % self.f.p
            if bit not in (0, 1):
                raise AssertionError(f"register 0 bit {t} moved by {bit}, not 0/1")
            value |= bit << t
        self.add(-1, 0)
        restored = self.regs == before
        for name in ("snapshot", "value", "index", "registers"):
            led.free(name)
        formula = cm_formula(self.h, b)
        if led.peak != formula:
            raise AssertionError(f"cook-mertz h={self.h} b={b}: measured {led.peak} "
                                 f"!= formula {formula}")
        if not restored:
            raise AssertionError("cook-mertz: registers not restored")
        return {"algorithm": "cook-mertz", "h": self.h, "b": b, "value": value,
                "measured_bits": led.peak, "formula_bits": formula,
                "registers_restored": restored, "field_p": self.f.p, "omega": self.f.omega,
                "m": self.f.m, **self.counts, "peak_by_category": led.peak_by_category,
                "wall_s": time.perf_counter() - start}


def cook_mertz_evaluate(inst: Instance, seed: int = 0,
                        registers: list[list[int]] | None = None) -> dict[str, Any]:
    """Evaluate with random (seeded) starting registers; asserts restoration and the formula."""
    return CookMertz(inst, registers, seed).evaluate()
