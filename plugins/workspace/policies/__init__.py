"""Eviction policies, each a small module behind one interface (`base.Policy`).

`make(name, capacity)` builds one by its config name. Belady's MIN is offline
(`belady.belady_hits`) and serves as the benchmark's upper bound.
"""

from __future__ import annotations

from .arc import ARC
from .base import Key, Policy
from .lfu import LFU
from .lru import LRU
from .s3fifo import S3FIFO
from .sieve import Sieve
from .wtinylfu import WTinyLFU

POLICIES: dict[str, type[Policy]] = {
    cls.name: cls for cls in (LRU, LFU, ARC, S3FIFO, Sieve, WTinyLFU)
}
NAMES = (*POLICIES, "auto")


def make(name: str, capacity: int, sized: bool = False) -> Policy:
    """Build the policy called `name` (`auto` included) with `capacity` units.

    `sized=True` says entries have byte sizes (the memory tier): capacity is then
    bytes, and whatever a policy sizes by object count (W-TinyLFU's sketch, `auto`'s
    sampling) follows the objects actually held instead of the capacity."""
    if name == "auto":
        from ..adaptive import Adaptive

        return Adaptive(capacity, sized=sized)
    try:
        cls = POLICIES[name]
    except KeyError:
        raise ValueError(f"unknown policy {name!r}; choose one of {', '.join(NAMES)}") from None
    return WTinyLFU(capacity, sized=True) if sized and cls is WTinyLFU else cls(capacity)


__all__ = ["ARC", "LFU", "LRU", "NAMES", "POLICIES", "S3FIFO", "Key", "Policy", "Sieve",
           "WTinyLFU", "make"]
