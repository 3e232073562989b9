"""A recording of `system.record`, read as what tuning replays: the cache accesses in
order, the object sizes the puts showed, and the latencies the daemon measured.

A recording is JSON lines, `{"t", "method", "bytes", "latency_us", "key"?, "error"?}`
(never payloads). Cache accesses are `workspace.get` and `workspace.put` calls that
name a key, except a put right after a missed get of the same key: that is the fill of
the miss, which the replay's miss already admits. A put without a key
(content-addressed) is counted as a call but cannot be followed. A key's size is the
payload of its last put (the call's bytes minus the key); a key no put showed gets the
mean of the sizes seen.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CACHE_METHODS = ("workspace.get", "workspace.put")
DEFAULT_SIZE = 4096
"""Object size assumed when a recording shows no put at all."""


class WorkloadError(ValueError):
    """A recording that cannot be used; the message names the line, never its text."""


@dataclass(frozen=True)
class RecordedCall:
    method: str
    latency_s: float
    key: str | None
    size: int
    error: bool


@dataclass(frozen=True)
class Workload:
    """The calls of one recording (or a slice of it) in order."""

    calls: tuple[RecordedCall, ...]

    def part(self, first: float, last: float) -> Workload:
        """The calls between the shares `first` and `last` of the recording (0..1)."""
        n = len(self.calls)
        return Workload(self.calls[round(first * n):round(last * n)])


def _call(line: str, no: int) -> RecordedCall:
    try:
        entry = json.loads(line)
    except json.JSONDecodeError:
        raise WorkloadError(f"line {no}: not JSON") from None
    if not isinstance(entry, dict):
        raise WorkloadError(f"line {no}: not an object")
    method, latency = entry.get("method"), entry.get("latency_us")
    nbytes, key = entry.get("bytes", 0), entry.get("key")
    if not isinstance(method, str) or isinstance(latency, bool) \
            or not isinstance(latency, int | float) or not np.isfinite(latency) or latency < 0:
        raise WorkloadError(f"line {no}: needs a method and a latency_us ≥ 0")
    if isinstance(nbytes, bool) or not isinstance(nbytes, int) or nbytes < 0:
        raise WorkloadError(f"line {no}: bytes must be an integer ≥ 0")
    if key is not None and not isinstance(key, str):
        raise WorkloadError(f"line {no}: key must be a string")
    size = max(1, nbytes - len(key or "")) if method == "workspace.put" else 0
    return RecordedCall(method, float(latency) / 1e6, key, size, entry.get("error") is not None)


def load(path: Path, max_calls: int) -> Workload:
    """Read a recording; `WorkloadError` names the first bad line, or says it is too long."""
    calls: list[RecordedCall] = []
    with path.open(encoding="utf-8") as fh:
        for no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            if len(calls) >= max_calls:
                raise WorkloadError(f"more than {max_calls} calls (tune.max_calls)")
            calls.append(_call(line, no))
    return Workload(tuple(calls))


@dataclass(frozen=True)
class Facts:
    """What a replay needs from a workload: keys as integers, sizes, measured costs."""

    keys: list[int]
    """Cache accesses in order, each key numbered by its first appearance."""
    sizes: list[int]
    """Bytes of each numbered key."""
    calls: int
    errors: int
    other_s: float
    """Recorded seconds of the calls that are not cache accesses."""
    hit_s: float
    miss_s: float
    """A fast (memory) and a slow (disk) get, measured: the 10th and 90th percentiles of
    the recorded gets' latencies."""

    @property
    def distinct(self) -> int:
        return len(self.sizes)

    @property
    def mean_size(self) -> float:
        return sum(self.sizes) / len(self.sizes) if self.sizes else float(DEFAULT_SIZE)

    @property
    def working_set(self) -> int:
        return sum(self.sizes)


def facts(w: Workload) -> Facts:
    ids: dict[str, int] = {}
    put_size: dict[str, int] = {}
    keys: list[int] = []
    gets: list[float] = []
    other = 0.0
    errors = 0
    last_get: str | None = None
    for c in w.calls:
        errors += c.error
        if c.method in CACHE_METHODS and c.key is not None:
            if c.method == "workspace.put":
                put_size[c.key] = c.size
                if c.key != last_get:
                    keys.append(ids.setdefault(c.key, len(ids)))
                last_get = None
            else:
                keys.append(ids.setdefault(c.key, len(ids)))
                gets.append(c.latency_s)
                last_get = c.key
        else:
            other += c.latency_s
    known = list(put_size.values())
    fallback = int(sum(known) / len(known)) if known else DEFAULT_SIZE
    sizes = [put_size.get(k, fallback) for k in ids]
    hit_s = float(np.percentile(gets, 10)) if gets else 1e-4
    miss_s = max(hit_s, float(np.percentile(gets, 90))) if gets else 1e-3
    return Facts(keys, sizes, len(w.calls), errors, other, hit_s, miss_s)
