"""Seven metrics of a replay, each normalized to [0, 1] against a documented reference.

1 is as good as the reference allows; the autonomy score is their weighted
mean. References are computed once per workload (`Reference.of`):

- throughput: calls per second against an ideal machine that serves every call
  at its floor cost (cache hits without decompression, PRD blocks spread over
  all cores, no GC, no dispatch) and is limited only by arrivals and cores.
- p99 latency: against the raw socket round trip plus the p99 of the floor
  costs (what an infinitely good cache and pool would leave).
- hit ratio: against Belady's furthest-next-use rule on the same get sequence,
  with the cache memory the budget leaves comfortably (75 % of the budget minus
  the daemon's base and one worker) and the best codec (capped at 1;
  prefetching can beat it).
- peak memory: 1 while the modelled peak stays under 75 % of the memory
  budget, falling linearly to 0 at the budget.
- CPU seconds per call: against the floor CPU (no compression, no GC pauses,
  no prefetch or dispatch overhead).
- error rate: 1 − errors / calls (deadline overruns and calls refused over budget).
- disk bytes read: against Belady's missed bytes (the reads that cannot be avoided).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from catalytic.plugins.evolve.autotune.model import Costs, Replay
from catalytic.plugins.evolve.autotune.policies import belady_hits
from catalytic.plugins.evolve.autotune.workload import RecordedCall

METRICS = ("throughput", "p99_latency", "hit_ratio", "peak_memory", "cpu_per_call",
           "error_rate", "disk_read")
WEIGHTS = {"throughput": 0.2, "p99_latency": 0.2, "hit_ratio": 0.15, "peak_memory": 0.1,
           "cpu_per_call": 0.1, "error_rate": 0.15, "disk_read": 0.1}
MEMORY_COMFORT = 0.75


@dataclass(frozen=True)
class Reference:
    throughput: float
    p99_latency: float
    hit_ratio: float
    cpu_per_call: float
    disk_read: float

    @classmethod
    def of(cls, calls: list[RecordedCall], c: Costs, warm: int = 0) -> Reference:
        """References for `calls[warm:]`, with `calls[:warm]` as their warm-up past."""
        floors: list[float] = []
        cpu = 0.0
        memo: set[str] = set()
        keys: list[str] = []
        sizes: list[int] = []
        gets: list[bool] = []
        counted: list[bool] = []
        for i, call in enumerate(calls):
            f = c.loop_overhead_s
            extra_cpu = 0.0
            if call.method in ("workspace.get", "workspace.put"):
                f += call.size / c.copy_bps
                stored, _, _ = c.codec("zstd", 19, call.ratio)
                keys.append(call.key)
                sizes.append(max(1, int(call.size * stored)))
                gets.append(call.method == "workspace.get")
                counted.append(i >= warm)
            elif call.method == "prd.decompose":
                if call.key not in memo:
                    memo.add(call.key)
                    f += call.blocks * c.block_cpu_s / c.cores
                    extra_cpu = call.blocks * c.block_cpu_s * (1 - 1 / c.cores)
                else:
                    f += c.memo_hit_s
            else:
                f += call.cpu_s
            if i >= warm:
                floors.append(f)
                cpu += f + extra_cpu
        n = max(1, len(calls) - warm)
        span = calls[-1].t - calls[warm].t if len(calls) - warm > 1 else 0.0
        ideal = max(span, sum(floors) / c.cores, 1e-9)
        room = int((c.memory_budget * MEMORY_COMFORT - c.base_rss - c.worker_rss)
                   / max(1.0, c.growth))  # the same forecast as the replayed tier
        hits, missed = belady_hits(keys, sizes, max(0, room), gets, counted)
        n_gets = sum(g and m for g, m in zip(gets, counted, strict=True))
        return cls(throughput=n / ideal,
                   p99_latency=c.rtt_s + float(np.percentile(floors, 99)) if floors else c.rtt_s,
                   hit_ratio=hits / max(1, n_gets),
                   cpu_per_call=cpu / n,
                   disk_read=float(missed))


def normalized(r: Replay, ref: Reference, c: Costs) -> dict[str, float]:
    """Each metric in [0, 1] (1 = as good as the reference)."""
    n = max(1, r.n)
    p99 = float(np.percentile(r.latencies, 99)) if r.latencies else ref.p99_latency
    hit = r.hits / r.gets if r.gets else 1.0
    mem_share = r.peak_memory / c.memory_budget
    out = {
        "throughput": (n / r.makespan) / ref.throughput,
        "p99_latency": ref.p99_latency / max(p99, 1e-12),
        "hit_ratio": hit / ref.hit_ratio if ref.hit_ratio > 0 else 1.0,
        "peak_memory": (1.0 - mem_share) / (1.0 - MEMORY_COMFORT),
        "cpu_per_call": ref.cpu_per_call / max(r.cpu_s / n, 1e-12),
        "error_rate": 1.0 - r.errors / n,
        "disk_read": (ref.disk_read + 1.0) / (r.disk_read + 1.0),
    }
    return {k: float(min(1.0, max(0.0, v))) for k, v in out.items()}


def autonomy(values: dict[str, float], weights: dict[str, float] | None = None) -> float:
    """Weighted mean of the normalized metrics."""
    w = weights or WEIGHTS
    total = sum(w[k] for k in METRICS)
    return sum(w[k] * values[k] for k in METRICS) / total
