"""Built-in step functions s_{i+1} = F(s_i) for checkpointed reversal.

Over RPC only these names are allowed; in-process users may pass any `StepFunction`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MASK64 = (1 << 64) - 1


@dataclass(frozen=True)
class StepFunction:
    """A step F, the width of a state in bits (what one stored state costs) and s_0."""

    name: str
    bits: int
    fn: Callable[[Any], Any]
    initial: Callable[[int], Any]


def _hash_step(state: bytes) -> bytes:
    return hashlib.sha256(state).digest()


def _hash_initial(seed: int) -> bytes:
    return hashlib.sha256(b"catalytic-space-chain:%d" % seed).digest()


def _rule110_step(state: int) -> int:
    """One step of elementary cellular automaton rule 110 on a ring of 64 cells."""
    left = ((state << 1) | (state >> 63)) & MASK64
    right = ((state >> 1) | (state << 63)) & MASK64
    # Rule 110: new = (c XOR r) OR (c AND NOT l)  [l=left neighbour, c=centre, r=right]
    return ((state ^ right) | (state & ~left)) & MASK64


def _rule110_initial(seed: int) -> int:
    return (0x9E3779B97F4A7C15 * (seed + 1)) & MASK64 or 1


def _lcg_step(state: int) -> int:
    """A 64-bit linear congruential generator (Knuth's MMIX constants): a tiny machine."""
    return (state * 6364136223846793005 + 1442695040888963407) & MASK64


def _lcg_initial(seed: int) -> int:
    return seed & MASK64


BUILTINS: dict[str, StepFunction] = {
    "hash": StepFunction("hash", 256, _hash_step, _hash_initial),
    "rule110": StepFunction("rule110", 64, _rule110_step, _rule110_initial),
    "lcg": StepFunction("lcg", 64, _lcg_step, _lcg_initial),
}


def builtin(name: str) -> StepFunction:
    """The built-in step named `name` (KeyError names the known ones)."""
    try:
        return BUILTINS[name]
    except KeyError:
        raise KeyError(f"unknown step function {name!r}; built-ins: {sorted(BUILTINS)}") from None
