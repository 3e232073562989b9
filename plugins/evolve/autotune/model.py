"""A cost model of the daemon, parameterized by its knobs, that replays a workload.

This is a model, not a measurement: the constants in `Costs` are round figures
for a small Linux machine (memory copy, SSD reads, lz4/zstd speeds and ratios,
process-pool dispatch, per-worker memory, CPython GC pauses). It captures the
trade-offs the knobs control — a bigger memory tier hits more but costs
memory; compression fits more entries but costs CPU on every hit; prefetching
turns scan misses into hits at the price of disk reads and space; parallel PRD
decomposition pays a dispatch cost; workers beyond the cores add memory, not
speed; larger GC thresholds save pauses but hold more garbage. Arrivals keep
their recorded times; the event loop serves cache calls one at a time and the
pool serves CPU work on `workers` processes sharing `cores` cores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from catalytic.plugins.evolve.autotune.policies import make
from catalytic.plugins.evolve.autotune.workload import RecordedCall

CODECS = ("none", "lz4", "zstd")


@dataclass(frozen=True)
class Knobs:
    policy: str = "lru"
    memory_fraction: float = 0.5
    """Share of the memory budget given to the workspace's memory tier."""
    prefetch_depth: int = 0
    prefetch_budget: float = 0.1
    """Largest share of the memory tier that prefetched, not yet used, entries may hold."""
    codec: str = "zstd"
    level: int = 3
    prd_parallel_threshold: int = 32
    workers: int = 2
    gc_gen0: int = 700

    def to_map(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Costs:
    """Round figures of the model (seconds, bytes, bytes per second)."""

    cores: int = 2
    memory_budget: int = 256 << 20
    rtt_s: float = 60e-6
    """Raw socket round trip of a small msgpack-rpc call (the latency reference)."""
    loop_overhead_s: float = 15e-6
    copy_bps: float = 4e9
    disk_latency_s: float = 90e-6
    disk_read_bps: float = 800e6
    disk_write_bps: float = 400e6
    block_cpu_s: float = 250e-6
    """CPU per PRD block."""
    memo_hit_s: float = 30e-6
    pool_dispatch_s: float = 1.5e-3
    base_rss: int = 60 << 20
    worker_rss: int = 35 << 20
    gc_pause_s: float = 120e-6
    allocs_per_call: int = 60
    garbage_bytes_per_gen0: int = 400
    deadline_s: float = 1.0
    growth: float = 1.0
    """Forecast growth of the data the memory tier must hold (autotune's footprint
    forecast): the tier is simulated at capacity / growth and counted at capacity."""
    codec_table: dict[str, tuple[float, float, float]] = field(default_factory=lambda: {
        # codec: (compress B/s at level 1, decompress B/s, share of compressibility removed)
        "none": (float("inf"), float("inf"), 0.0),
        "lz4": (600e6, 2.5e9, 0.55),
        "zstd": (350e6, 900e6, 0.75),
    })

    def codec(self, codec: str, level: int, ratio: float) -> tuple[float, float, float]:
        """(stored fraction of raw size, compress s/byte, decompress s/byte)."""
        comp, decomp, gain = self.codec_table[codec]
        if codec == "none":
            return 1.0, 0.0, 0.0
        lvl = max(1, min(level, 19 if codec == "zstd" else 12))
        gain = min(0.98, gain * (1 + 0.02 * (lvl - 1)))
        stored = 1.0 - gain * (1.0 - ratio)
        slow = 1 + (lvl - 1) * (0.35 if codec == "zstd" else 0.15)
        return stored, slow / comp, 1.0 / decomp


@dataclass
class Replay:
    """Raw outcomes of one replay (turned into metrics by `metrics.score`)."""

    n: int = 0
    latencies: list[float] = field(default_factory=list)
    makespan: float = 0.0
    gets: int = 0
    hits: int = 0
    cpu_s: float = 0.0
    disk_read: int = 0
    peak_memory: int = 0
    errors: int = 0


def replay(calls: Sequence[RecordedCall], k: Knobs, c: Costs, warm: int = 0) -> Replay:
    """Serve every call under knobs `k` and cost model `c`.

    The first `warm` calls only warm the caches and memo tables; the figures
    describe the calls after them (a held-out part replayed after its past).
    """
    return replay_windows(calls, k, c, [(warm, len(calls))])[0]


def replay_windows(calls: Sequence[RecordedCall], k: Knobs, c: Costs,
                   windows: Sequence[tuple[int, int]]) -> list[Replay]:
    """One pass over `calls` that reports each window `[start, end)` separately.

    Everything before a window's start is its warm-up past, as in `replay`;
    windows may overlap. Calls after the last window's end are not served.
    """
    outs = [Replay(n=max(0, e - s)) for s, e in windows]
    lasts = [calls[s].t if s < len(calls) else 0.0 for s, _ in windows]
    stop = min(len(calls), max((e for _, e in windows), default=0))
    capacity = int(c.memory_budget * k.memory_fraction)
    tier = int(capacity / max(1.0, c.growth))  # what the tier holds of today's data
    cache = make(k.policy, tier)
    prefetched: dict[str, int] = {}
    prefetched_bytes = 0
    memo: set[str] = set()
    parallel = max(1, min(k.workers, c.cores))
    pool = [0.0] * max(1, k.workers)  # free times of pool workers
    loop_free = 0.0
    gc_debt = 0.0
    static_mem = c.base_rss + k.workers * c.worker_rss + k.gc_gen0 * c.garbage_bytes_per_gen0
    for i in range(stop):
        call = calls[i]
        cpu = c.loop_overhead_s
        service = c.loop_overhead_s
        gets = hits = disk = 0
        gc_debt += c.allocs_per_call / k.gc_gen0
        if gc_debt >= 1.0:  # one young collection every gc_gen0 allocations
            pauses = int(gc_debt)
            gc_debt -= pauses
            cpu += pauses * c.gc_pause_s
            service += pauses * c.gc_pause_s
        heavy = 0.0
        if call.method in ("workspace.get", "workspace.put"):
            stored_frac, comp_spb, decomp_spb = c.codec(k.codec, k.level, call.ratio)
            stored = max(1, int(call.size * stored_frac))
            if call.method == "workspace.put":
                t = call.size * comp_spb + stored / c.disk_write_bps + stored / c.copy_bps
                cpu += call.size * comp_spb + stored / c.copy_bps
                service += t
                cache.put(call.key, stored)
            else:
                gets = 1
                if cache.get(call.key):
                    hits = 1
                    if call.key in prefetched:
                        prefetched_bytes -= prefetched.pop(call.key)
                else:
                    disk += stored
                    service += c.disk_latency_s + stored / c.disk_read_bps
                    cache.put(call.key, stored)
                t = call.size * decomp_spb + call.size / c.copy_bps
                cpu += t
                service += t
                if k.prefetch_depth and call.seq is not None:
                    name, pos = call.seq
                    for j in range(1, k.prefetch_depth + 1):
                        key = f"{name}#{pos + j}"
                        if key in prefetched or cache.get(key):
                            continue
                        if prefetched_bytes + stored > k.prefetch_budget * tier:
                            break
                        # background read: costs disk and CPU, not this call's latency
                        disk += stored
                        cpu += stored / c.disk_read_bps * 0.1
                        cache.put(key, stored)
                        prefetched[key] = stored
                        prefetched_bytes += stored
        elif call.method == "prd.decompose":
            if call.key in memo:
                cpu += c.memo_hit_s
                service += c.memo_hit_s
            else:
                memo.add(call.key)
                work = call.blocks * c.block_cpu_s
                if call.blocks >= k.prd_parallel_threshold and parallel > 1:
                    heavy = work / parallel * (k.workers / parallel) + c.pool_dispatch_s
                    cpu += work + c.pool_dispatch_s * parallel
                else:
                    service += work
                    cpu += work
        elif call.method == "loop":  # a call the model does not simulate, at its recorded cost
            service += call.cpu_s
            cpu += call.cpu_s
        else:
            heavy = call.cpu_s * max(1.0, k.workers / c.cores) + c.pool_dispatch_s / 3
            cpu += call.cpu_s
        start = max(call.t, loop_free)
        loop_free = start + service
        done = loop_free
        if heavy:
            w = min(range(len(pool)), key=pool.__getitem__)
            begin = max(done, pool[w])
            pool[w] = begin + heavy
            done = pool[w]
        latency = c.rtt_s + done - call.t
        errors = int(latency > max(c.deadline_s, 2 * call.cpu_s))
        # a long-running cache fills its tier: count the configured capacity, not the fill
        memory = static_mem + capacity + len(memo) * 2048
        errors += memory > c.memory_budget  # the memory governor refuses work over budget
        for j, (s, e) in enumerate(windows):
            if s <= i < e:
                o = outs[j]
                o.gets += gets
                o.hits += hits
                o.disk_read += disk
                o.errors += errors
                o.latencies.append(latency)
                o.cpu_s += cpu
                o.peak_memory = max(o.peak_memory, memory)
                lasts[j] = max(lasts[j], done)
    for j, (s, _) in enumerate(windows):
        first = calls[s].t if s < len(calls) else 0.0
        outs[j].makespan = max(1e-9, lasts[j] - first)
    return outs
