"""Table 1 of bench/workspace.py: hit ratios of every policy and `auto` against
libCacheSim (driven through its C trace reader) and Belady, per trace."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from catalytic.plugins.workspace.adaptive import Adaptive
from catalytic.plugins.workspace.policies import POLICIES
from catalytic.plugins.workspace.policies.belady import belady_hits
from catalytic.plugins.workspace.traces import read_trace

OURS = (*POLICIES, "auto")
LCS = ("LRU", "ARC", "S3FIFO", "Sieve", "WTinyLFU", "LIRS")
U64 = (1 << 64) - 1


def zipf_trace(alpha: float, n_keys: int = 100_000, n_req: int = 1_000_000,
               seed: int = 1) -> list[int]:
    p = 1.0 / np.arange(1, n_keys + 1) ** alpha
    p /= p.sum()
    return [int(k) for k in np.random.default_rng(seed).choice(n_keys, n_req, p=p)]


def corpus_traces(corpus: Path) -> list[Path]:
    names = [p for p in sorted((corpus / "traces").rglob("*"))
             if p.is_file() and p.name.endswith((".gz", ".xz"))]
    return names


def lcs_hit_ratios(keys: list[int], capacity: int, names: tuple[str, ...] = LCS
                   ) -> dict[str, float]:
    """libCacheSim's policies `names` over `keys` (object size 1), via a plain-text trace."""
    import libcachesim as lcs

    fd, name = tempfile.mkstemp(suffix=".txt")
    try:
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(str(k & U64) for k in keys))
            f.write("\n")
        out = {}
        for cls_name in names:
            reader = lcs.TraceReader(name, lcs.TraceType.PLAIN_TXT_TRACE,
                                     lcs.ReaderInitParam(ignore_obj_size=True))
            cache = getattr(lcs, cls_name)(capacity)
            miss, _ = cache.process_trace(reader)
            out["lcs_" + cls_name.lower()] = 1.0 - miss
        return out
    finally:
        os.unlink(name)


def evaluate(name: str, keys: list[int], fraction: float) -> dict[str, Any]:
    """One row: our policies, auto, libCacheSim's, Belady at `fraction` of distinct keys."""
    distinct = len(set(keys))
    capacity = max(10, int(distinct * fraction))
    n = len(keys)
    row: dict[str, Any] = {"trace": name, "requests": n, "distinct": distinct,
                           "fraction": fraction, "capacity": capacity}
    for p in POLICIES:
        row[p] = POLICIES[p](capacity).replay(keys) / n
    auto = Adaptive(capacity)
    row["auto"] = auto.replay(keys) / n
    row["auto_final"] = auto.current
    row["auto_switches"] = auto.switches
    row.update(lcs_hit_ratios(keys, capacity))
    row["belady"] = belady_hits(keys, capacity) / n
    best = max(POLICIES, key=lambda p: row[p])
    row["best"] = best
    row["auto_gap"] = row[best] - row["auto"]
    span = row["belady"] - row["lru"]
    row["gap_share"] = (row["auto"] - row["lru"]) / span if span > 1e-9 else 1.0
    return row


def job(args: tuple[str, str | None, float | None, int | None]) -> list[dict[str, Any]]:
    """Both capacities of one trace (a path, or a Zipf alpha); run in a worker process."""
    name, path, alpha, limit = args
    keys = read_trace(path, limit=limit) if path else zipf_trace(alpha or 1.0)
    return [evaluate(name, keys, f) for f in (0.01, 0.1)]


def conformance(rows: list[dict[str, Any]]) -> list[str]:
    """Rows where one of our policies is off libCacheSim's by more than the tolerance."""
    pairs = (("lru", "lcs_lru", 0.005), ("arc", "lcs_arc", 0.005),
             ("s3fifo", "lcs_s3fifo", 0.005), ("sieve", "lcs_sieve", 0.005),
             ("wtinylfu", "lcs_wtinylfu", 0.015))
    bad = []
    for r in rows:
        for ours, ref, tol in pairs:
            if abs(r[ours] - r[ref]) > tol:
                bad.append(f"{r['trace']}@{r['capacity']}: {ours} {r[ours]:.4f} vs "
                           f"libCacheSim {r[ref]:.4f}")
    return bad


def identical(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Per policy, the rows where our hit ratio equals libCacheSim's (same hit count)."""
    pairs = {"lru": "lcs_lru", "arc": "lcs_arc", "s3fifo": "lcs_s3fifo", "sieve": "lcs_sieve",
             "wtinylfu": "lcs_wtinylfu"}
    return {p: sum(abs(r[p] - r[ref]) * r["requests"] < 0.5 for r in rows)
            for p, ref in pairs.items()}


def print_table(rows: list[dict[str, Any]]) -> None:
    cols = [*POLICIES, "auto", "lcs_lru", "lcs_arc", "lcs_s3fifo", "lcs_sieve", "lcs_wtinylfu",
            "lcs_lirs", "belady"]
    short = {"wtinylfu": "wtlfu", "lcs_wtinylfu": "L:wtlfu", "s3fifo": "s3f",
             "lcs_s3fifo": "L:s3f", "lcs_lru": "L:lru", "lcs_arc": "L:arc",
             "lcs_sieve": "L:sieve", "lcs_lirs": "L:lirs", "belady": "Belady"}
    head = f"| {'trace':<24} | cap | " + " | ".join(short.get(c, c) for c in cols)
    print(head + " | auto gap | LRU→Belady captured |")
    print("|" + "---|" * (len(cols) + 4))
    for r in rows:
        cells = " | ".join(f"{r[c]:.3f}" for c in cols)
        print(f"| {r['trace']:<24} | {int(r['fraction'] * 100)}% | {cells} | "
              f"{100 * r['auto_gap']:+.2f} | {100 * r['gap_share']:.0f}% |")
