"""Turn `system.stats` answers into flat `metric name → float` samples.

Names are dotted: `method.<name>.p95_ms`, `plugin.<name>.<key path>`. Per-method
request rates are differences of call counts between two answers, so this module
keeps the previous counts.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from typing import Any

MAX_LEAVES_PER_PLUGIN = 64
"""A plugin with a huge stats() map contributes only its first leaves (in key order)."""

EXECUTOR_KEYS = ("workers", "running", "submitted", "completed", "failed", "cancelled",
                 "connected", "cluster_workers", "cluster_threads", "cluster_executing",
                 "resubmitted", "fell_back")
"""Figures of `system.stats` → `executor` sampled as `executor.<key>` (the Dask cluster's too)."""

_intern: dict[str, str] = {}


def key(name: str) -> str:
    """Intern metric names: every sample shares one string object per name."""
    return _intern.setdefault(name, sys.intern(name))


def numeric_leaves(value: Any, prefix: str, depth: int = 0) -> Iterator[tuple[str, float]]:
    """Every finite int/float/bool leaf below `value`, with a dotted path (lists skipped)."""
    if depth > 4:
        return
    if isinstance(value, bool):
        yield prefix, float(value)
    elif isinstance(value, int | float):
        if math.isfinite(value):
            yield prefix, float(value)
    elif isinstance(value, dict):
        for k in sorted(value, key=str):
            if k == "charts":
                continue
            yield from numeric_leaves(value[k], f"{prefix}.{k}", depth + 1)


class StatsFlattener:
    """Remembers the last call counts so each sample carries per-method rates."""

    def __init__(self) -> None:
        self._calls: dict[str, tuple[float, int, int]] = {}

    def methods(self, methods: dict[str, dict[str, Any]], now: float) -> dict[str, float]:
        out: dict[str, float] = {}
        for name, m in methods.items():
            calls = int(m.get("calls", 0))
            errors = sum(int(v) for v in (m.get("errors") or {}).values())
            prev = self._calls.get(name)
            self._calls[name] = (now, calls, errors)
            p = f"method.{name}."
            out[key(p + "calls")] = float(calls)
            out[key(p + "errors")] = float(errors)
            for code, n in (m.get("errors") or {}).items():
                out[key(f"{p}errors_by_code.{code}")] = float(n)
            if prev is not None and now > prev[0]:
                dt = now - prev[0]
                out[key(p + "rate_per_s")] = max(0, calls - prev[1]) / dt
                out[key(p + "error_rate_per_s")] = max(0, errors - prev[2]) / dt
            for q in ("p50", "p95", "p99", "max", "mean"):
                us = m.get(f"{q}_us")
                if isinstance(us, int | float):
                    out[key(f"{p}{q}_ms")] = float(us) / 1000.0
        return out

    @staticmethod
    def plugins(plugins: dict[str, Any]) -> dict[str, float]:
        out: dict[str, float] = {}
        for name, stats in plugins.items():
            if name == "monitor" or not isinstance(stats, dict):
                continue
            for i, (path, value) in enumerate(numeric_leaves(stats, f"plugin.{name}")):
                if i >= MAX_LEAVES_PER_PLUGIN:
                    break
                out[key(path)] = value
        return out

    @staticmethod
    def daemon(stats: dict[str, Any]) -> dict[str, float]:
        out: dict[str, float] = {}
        for k in ("connections", "requests", "errors"):
            if isinstance(stats.get(k), int | float):
                out[key(f"daemon.{k}")] = float(stats[k])
        gov = stats.get("governor") or {}
        for k in ("budget", "soft_limit", "shrinks", "freed_bytes"):
            if isinstance(gov.get(k), int | float):
                out[key(f"governor.{k}")] = float(gov[k])
        if "refusing_heavy_calls" in gov:
            out[key("governor.refusing_heavy_calls")] = float(bool(gov["refusing_heavy_calls"]))
        ex = stats.get("executor") or {}
        for k in EXECUTOR_KEYS:
            v = ex.get(k)
            if isinstance(v, int | float) and math.isfinite(v):
                out[key(f"executor.{k}")] = float(v)
        return out
