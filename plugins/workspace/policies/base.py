"""The one interface every eviction policy implements.

A policy only decides *which keys are resident*; it holds no values. Capacity is
in units (objects when every size is 1, bytes when sizes are byte counts). A
miss admits the key (evicting as needed) unless it can never fit.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import ClassVar

Key = Hashable
EvictFn = Callable[[Key], None]


class Policy:
    """Base class: `access(key, size) -> hit`; subclasses add fast `replay` loops."""

    name: ClassVar[str] = ""
    warm_from_history: ClassVar[bool] = True
    """Whether replaying recent requests is a good start for this policy when `auto`
    switches to it (ghosts, counts); W-TinyLFU starts better from the resident set."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be ≥ 1, got {capacity}")
        self.capacity = int(capacity)
        self.used = 0
        self.on_evict: EvictFn | None = None
        """Called with each key the policy evicts (the tiers drop its data)."""

    def access(self, key: Key, size: int = 1) -> bool:
        """Record a request for `key`; return True on a hit (admit it on a miss)."""
        raise NotImplementedError

    def replay(self, keys: Iterable[Key]) -> int:
        """Access every key with size 1 and return the number of hits."""
        access = self.access
        return sum(1 for k in keys if access(k))

    def adopt(self, keys: list[Key], sizes: dict[Key, int],
              history: Iterable[Key] = ()) -> None:
        """Take over another policy's resident `keys` (coldest first) as far as they fit;
        by default each is admitted as a miss would be. `history` (recent requests, when
        they still describe the workload) may seed what the policy learns from."""
        access = self.access
        for key in keys:
            if key not in self:
                access(key, sizes[key])

    def remove(self, key: Key) -> bool:
        """Drop `key` if resident (no eviction callback); True when it was."""
        raise NotImplementedError

    def __contains__(self, key: object) -> bool:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    def resident(self) -> list[Key]:
        """Resident keys, coldest first as far as the policy can tell."""
        raise NotImplementedError

    def sizes(self) -> dict[Key, int]:
        """Resident key → size (used when the resident set moves to another policy)."""
        raise NotImplementedError

    def _evicted(self, key: Key) -> None:
        cb = self.on_evict
        if cb is not None:
            cb(key)
