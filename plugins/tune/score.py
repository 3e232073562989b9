"""The seven weighted metrics of a measured replay, each in [0, 1] (1: as good as the
workload allows), and their weighted mean, the score.

What is measured: hits, misses and prefetches come from replaying the workload's keys
through the workspace's own policies (`workspace.simulate`); the cost of a fast and a
slow get, the other calls' time and the errors come from the recording itself. From
those:

- hit_ratio: hits / the accesses that are not a key's first (those must miss).
- disk_read: first sightings / misses (each miss reads the disk tier).
- p99_latency: the fast get over the 99th percentile of the replay's per-access
  latencies (a hit costs a fast get, a miss a slow one).
- throughput: the recorded time of the workload with every repeat a hit, over the
  time with the candidate's hits and misses.
- cpu_per_call: calls / (calls + prefetches issued): prefetching is extra work.
- peak_memory: the memory tier's peak (its capacity, or the whole workload's working
  set when that is smaller) against the memory budget: 1 up to 75 % of it, 0 at the
  budget.
- error_rate: 1 − the recorded errors per call.
"""

from __future__ import annotations

from typing import Any

from .recording import Facts

METRICS = ("throughput", "p99_latency", "hit_ratio", "peak_memory", "cpu_per_call",
           "error_rate", "disk_read")
WEIGHTS = {"throughput": 0.2, "p99_latency": 0.2, "hit_ratio": 0.15, "peak_memory": 0.1,
           "cpu_per_call": 0.1, "error_rate": 0.15, "disk_read": 0.1}
MEMORY_COMFORT = 0.75


def metrics(row: dict[str, Any], capacity: int, f: Facts, budget: int,
            working_set: int | None = None) -> dict[str, float]:
    """The metrics of one `workspace.simulate` row for a memory tier of `capacity` bytes.

    `working_set` is what the tier would fill up to (default: `f`'s); a replay of the
    start of a workload passes the whole workload's, since the tier keeps filling."""
    n = max(1, int(row["hits"]) + int(row["misses"]))
    hits, misses = int(row["hits"]), int(row["misses"])
    issued = int(row.get("prefetch_stats", {}).get("issued", 0))
    repeats = max(1, n - f.distinct)
    miss_share = misses / n
    p99 = f.miss_s if miss_share > 0.01 else f.hit_s
    best = f.other_s + repeats * f.hit_s + (n - repeats) * f.miss_s
    took = f.other_s + hits * f.hit_s + misses * f.miss_s
    peak = min(capacity, working_set or f.working_set) / budget
    out = {
        "throughput": best / took if took > 0 else 1.0,
        "p99_latency": f.hit_s / p99 if p99 > 0 else 1.0,
        "hit_ratio": hits / repeats,
        "peak_memory": (1.0 - peak) / (1.0 - MEMORY_COMFORT),
        "cpu_per_call": f.calls / (f.calls + issued) if f.calls else 1.0,
        "error_rate": 1.0 - f.errors / f.calls if f.calls else 1.0,
        "disk_read": f.distinct / misses if misses else 1.0,
    }
    return {k: round(min(1.0, max(0.0, v)), 6) for k, v in out.items()}


def weighted(values: dict[str, float], weights: dict[str, float] | None = None) -> float:
    """The weighted mean of the metrics: the score."""
    w = weights or WEIGHTS
    return round(sum(w[k] * values[k] for k in METRICS) / sum(w[k] for k in METRICS), 6)
