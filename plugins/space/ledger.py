"""A meter of the bits an algorithm holds: alloc/free by name, with the peak.

Read-only input is never charged; process memory (RSS) is never consulted. Every
algorithm charges what its model holds (registers, fixed-width frames, scratch,
stored states) and the peak is the measured figure that is compared with each
algorithm's closed-form accounting.
"""

from __future__ import annotations

from collections.abc import Hashable

from catalytic.plugins.base import JobCancelled, current_job

CHECK_EVERY = 4096
"""Allocations between two looks at the job's cancellation (a look costs a flag read)."""


class LedgerError(RuntimeError):
    """A double allocation or a free of something never allocated (a bug in the caller)."""


class Ledger:
    """Current and peak bits held, by name and by category."""

    __slots__ = ("_by_category", "_held", "_tick", "current", "peak", "peak_by_category")

    def __init__(self) -> None:
        self._held: dict[Hashable, tuple[str, int]] = {}
        self._by_category: dict[str, int] = {}
        self.current = 0
        self.peak = 0
        self.peak_by_category: dict[str, int] = {}
        self._tick = CHECK_EVERY

    def alloc(self, name: Hashable, bits: int, category: str = "scratch") -> None:
        """Charge `bits` held under `name` until `free(name)`.

        Every algorithm allocates as it goes, so this is also where a job run by the
        executor notices that its call was cancelled (every `CHECK_EVERY` allocations).
        """
        self._tick -= 1
        if self._tick <= 0:
            self._tick = CHECK_EVERY
            if current_job().cancelled():
                raise JobCancelled("the call was cancelled")
        if bits < 0:
            raise LedgerError(f"negative allocation for {name!r}")
        if name in self._held:
            raise LedgerError(f"{name!r} allocated twice")
        self._held[name] = (category, bits)
        self._by_category[category] = self._by_category.get(category, 0) + bits
        self.current += bits
        if self.current > self.peak:
            self.peak = self.current
            self.peak_by_category = dict(self._by_category)

    def free(self, name: Hashable) -> None:
        """Stop charging what `name` held."""
        try:
            category, bits = self._held.pop(name)
        except KeyError:
            raise LedgerError(f"{name!r} freed but not held") from None
        self._by_category[category] -= bits
        self.current -= bits

    def held(self, name: Hashable) -> bool:
        return name in self._held

    def summary(self) -> dict[str, object]:
        """Peak, current and the category breakdown at the peak (for results)."""
        return {"peak_bits": self.peak, "current_bits": self.current,
                "peak_by_category": dict(self.peak_by_category)}


def bits_for(count: int) -> int:
    """Bits of a counter that takes `count` distinct values (at least 1)."""
    return max(1, (count - 1).bit_length())
