"""The settings tuning changes, as candidates: the workspace's eviction policy, memory
tier capacity and prefetch — the ones a replay of the cache measures.

Names and allowed values are read from the settings model (the workspace declares
them), never written here twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SECTION = "workspace"
KEYS = ("policy", "memory_capacity", "prefetch")
SHARES = (1 / 32, 1 / 16, 1 / 8, 1 / 4, 1 / 2, 3 / 4, 1.0)
"""Capacities tried, as shares of the workload's working set ..."""
BUDGET_SHARES = (0.25, 0.5, 0.7)
"""... and of the memory budget."""


@dataclass(frozen=True, order=True)
class Candidate:
    policy: str
    memory_capacity: int
    prefetch: bool

    def settings(self) -> dict[str, dict[str, Any]]:
        return {SECTION: {"policy": self.policy, "memory_capacity": self.memory_capacity,
                          "prefetch": self.prefetch}}

    def label(self) -> str:
        return (f"{self.policy} {self.memory_capacity >> 10} KiB"
                + (" prefetch" if self.prefetch else ""))


def current(daemon_config: dict[str, dict[str, Any]]) -> Candidate:
    ws = daemon_config.get(SECTION, {})
    return Candidate(str(ws.get("policy", "auto")), int(ws.get("memory_capacity", 256 << 20)),
                     bool(ws.get("prefetch", True)))


def from_config(config: dict[str, Any], base: Candidate, policies: tuple[str, ...]) -> Candidate:
    """`{"workspace": {...}}` over `base`; ValueError names what is wrong."""
    if not isinstance(config, dict):
        raise ValueError("config: must be a map of sections, e.g. {\"workspace\": {...}}")
    unknown = sorted(set(config) - {SECTION})
    if unknown:
        raise ValueError(f"config: sections {unknown} cannot be measured; only [{SECTION}] "
                         f"({', '.join(KEYS)})")
    section = config.get(SECTION, {})
    if not isinstance(section, dict):
        raise ValueError(f"config.{SECTION}: must be a map")
    unknown = sorted(set(section) - set(KEYS))
    if unknown:
        raise ValueError(f"config.{SECTION}: unknown keys {unknown}; tunable: {', '.join(KEYS)}")
    policy = section.get("policy", base.policy)
    if policy not in policies:
        raise ValueError(f"config.{SECTION}.policy: {policy!r} is not one of {', '.join(policies)}")
    cap = section.get("memory_capacity", base.memory_capacity)
    if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
        raise ValueError(f"config.{SECTION}.memory_capacity: {cap!r} must be bytes ≥ 1")
    pre = section.get("prefetch", base.prefetch)
    if not isinstance(pre, bool):
        raise ValueError(f"config.{SECTION}.prefetch: {pre!r} must be true or false")
    return Candidate(policy, cap, pre)


def capacities(working_set: int, budget: int, extra: int) -> list[int]:
    """Memory tier sizes worth trying for this workload and budget (bytes, ascending)."""
    caps = {max(1, int(working_set * s)) for s in SHARES}
    caps |= {max(1, int(budget * s)) for s in BUDGET_SHARES}
    caps.add(extra)
    return sorted(caps)


def grid(policies: tuple[str, ...], caps: list[int]) -> list[Candidate]:
    return [Candidate(p, c, pre) for pre in (False, True) for p in policies for c in caps]
