"""Table 2 of bench/workspace.py: the generated pipeline workload. Hit ratios
in objects (LRU tuned to about 0.5, best policy, best + prefetch, Belady) and
bytes read from disk at the equivalent byte capacity, with and without
zstd compression and prefetch."""

from __future__ import annotations

from typing import Any

from catalytic.plugins.workspace.codec import Codec
from catalytic.plugins.workspace.policies import POLICIES, make
from catalytic.plugins.workspace.policies.belady import belady_hits
from catalytic.plugins.workspace.simulate import replay_prefetch
from catalytic.plugins.workspace.workload import PipelineSpec, artifact_bytes, pipeline_keys


def lru_capacity(keys: list[str], target: float = 0.5) -> int:
    """The object capacity at which LRU's hit ratio is closest to `target`."""
    lo, hi = 1, len(set(keys))
    while lo < hi:
        mid = (lo + hi) // 2
        if make("lru", mid).replay(keys) / len(keys) < target:
            lo = mid + 1
        else:
            hi = mid
    return lo


def bytes_read(policy: str, keys: list[str], capacity: int, sizes: dict[str, int],
               prefetch: bool) -> tuple[float, int, dict[str, Any] | None]:
    """(hit ratio, bytes read from disk incl. prefetch, prefetch stats) at a byte capacity."""
    pol = make(policy, capacity, sized=True)  # byte sizes, as in the memory tier
    if prefetch:
        hits, st = replay_prefetch(pol, keys, depth=2, sizes=sizes)
        return hits / len(keys), st.demand_miss_bytes + st.bytes_prefetched, st.as_dict()
    hits, read = 0, 0
    for k in keys:
        if pol.access(k, sizes[k]):
            hits += 1
        else:
            read += sizes[k]
    return hits / len(keys), read, None


def run(spec: PipelineSpec = PipelineSpec()) -> dict[str, Any]:
    keys = pipeline_keys(spec)
    n = len(keys)
    cap = lru_capacity(keys)
    hits = {p: make(p, cap).replay(keys) / n for p in POLICIES}
    hits["auto"] = make("auto", cap).replay(keys) / n
    best = max(hits, key=hits.__getitem__)
    pf_hits, pf = replay_prefetch(make(best, cap), keys, depth=2)
    belady = belady_hits(keys, cap) / n
    codec = Codec("zstd", 3)
    raw = {k: len(artifact_bytes(k)) for k in set(keys)}
    packed = {k: len(codec.encode(artifact_bytes(k))[1]) for k in raw}
    mean_raw = sum(raw[k] for k in keys) / n
    byte_cap = int(cap * mean_raw)
    io: dict[str, Any] = {}
    for label, policy, sizes, prefetch in (
            ("LRU, raw", "lru", raw, False), (f"{best}, raw", best, raw, False),
            ("LRU, zstd", "lru", packed, False), (f"{best}, zstd", best, packed, False),
            (f"{best} + prefetch, raw", best, raw, True),
            (f"{best} + prefetch, zstd", best, packed, True)):
        ratio, read, st = bytes_read(policy, keys, byte_cap, sizes, prefetch)
        io[label] = {"hit_ratio": ratio, "bytes_read": read, "prefetch": st}
    base = io["LRU, raw"]["bytes_read"]
    final = io[f"{best} + prefetch, zstd"]["bytes_read"]
    return {"requests": n, "distinct": len(raw), "capacity_objects": cap,
            "capacity_bytes": byte_cap, "hits": hits, "best": best,
            "prefetch_hit": pf_hits / n, "prefetch": pf.as_dict(), "belady": belady,
            "io": io, "io_saving": 1 - final / base,
            "compression_ratio": sum(raw.values()) / sum(packed.values())}


def print_report(r: dict[str, Any]) -> None:
    print(f"{r['requests']} requests, {r['distinct']} artifacts; memory = "
          f"{r['capacity_objects']} objects (LRU ≈ 0.5) ≈ {r['capacity_bytes'] / 2**20:.1f} MiB")
    print("| policy | hit ratio |\n|---|---|")
    for p, h in r["hits"].items():
        print(f"| {p} | {h:.3f} |")
    pf = r["prefetch"]
    print(f"| {r['best']} + prefetch | {r['prefetch_hit']:.3f} (precision {pf['precision']:.2f},"
          f" coverage {pf['coverage']:.2f}) |")
    print(f"| Belady (demand-fetch optimum) | {r['belady']:.3f} |")
    print("\n| memory tier (same bytes) | hit ratio | bytes read from disk | vs LRU raw |")
    print("|---|---|---|---|")
    base = r["io"]["LRU, raw"]["bytes_read"]
    for label, v in r["io"].items():
        print(f"| {label} | {v['hit_ratio']:.3f} | {v['bytes_read'] / 2**20:.1f} MiB | "
              f"{v['bytes_read'] / base:.2f}× |")
    print(f"zstd ratio on these artifacts {r['compression_ratio']:.2f}; "
          f"io saving vs uncompressed LRU {100 * r['io_saving']:.0f}%")
