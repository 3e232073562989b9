"""tune benchmark: does the proposal beat the default on a workload it never saw, and how
close does it come to an exhaustive sweep?

1. Record a workload with `system.record` on a real daemon: the first requests of a real
   block trace (../shared/corpus/traces/cloudphysics_io.txt.gz, VMware CloudPhysics),
   each a `workspace.get` and, when the key is not stored, a `workspace.put` of an
   incompressible value of 1-32 KiB (the size fixed by the key). The recording daemon's
   memory tier is small, so the recorded latencies include disk-tier reads.
2. Split it: the first 70 % to tune on, the last 30 % held out.
3. `tune.run` on the training part; `tune.score` of the default configuration and of the
   proposal on the held-out part.
4. The reference: every policy × 24 memory-tier sizes (the two knobs that matter most)
   scored with `tune.score` on the held-out part; vs_sweep = proposal / best of those.

Ends with one line:

    tune: heldout_score=.. default_score=.. vs_sweep=.. evaluations=.. wall_s=..

Targets: heldout_score > default_score, vs_sweep ≥ 0.955.
Usage: .venv/bin/python bench/tune.py [--requests 40000] [--budget 250] [--memory-budget-mib 16]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from catalytic.client import AsyncClient

from daemon_process import DaemonProcess

TRACE = Path("corpus") / "traces" / "cloudphysics_io.txt.gz"
DEFAULT = {"workspace": {"policy": "auto", "memory_capacity": 256 << 20, "prefetch": True}}
"""The shipped defaults of the tuned settings (config/catalytic.toml)."""


def find_trace() -> Path | None:
    """../shared/corpus/... seen from the repository or any folder above it."""
    for up in Path(__file__).resolve().parents:
        if (up / "shared" / TRACE).is_file():
            return up / "shared" / TRACE
    return None


def value(key: int) -> bytes:
    rng = random.Random(key)
    return rng.randbytes(int(1024 * 2 ** (5 * rng.random())))


async def drive(d: DaemonProcess, keys: list[int], window: int) -> int:
    """The trace through the daemon as a client with `window` requests in flight: gets of
    the next keys, then puts of those that missed."""
    puts = 0
    async with AsyncClient(d.socket, timeout=600) as c:
        for lo in range(0, len(keys), window):
            part = keys[lo:lo + window]
            got = await asyncio.gather(*(c.call("workspace.get", {"key": f"blk{k}"})
                                         for k in part))
            missed = list(dict.fromkeys(k for k, g in zip(part, got, strict=True)
                                        if g.get("data") is None))
            await asyncio.gather(*(c.call("workspace.put", {"key": f"blk{k}",
                                                            "data": value(k)})
                                   for k in missed))
            puts += len(missed)
    return puts


def record(d: DaemonProcess, requests: int, window: int = 16) -> tuple[Path, int, int]:
    """Drive the trace's first `requests` through the daemon while it records."""
    trace = find_trace()
    assert trace is not None
    with gzip.open(trace, "rt") as fh:
        keys = [int(line) for _, line in zip(range(requests), fh, strict=False)]
    with d.client() as c:
        c.call("system.record", {"action": "start", "name": "cloudphysics",
                                 "max_calls": 10**6})
        puts = asyncio.run(drive(d, keys, window))
        saved = c.call("system.record", {"action": "stop"})
    return Path(saved["path"]), len(keys), puts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=40_000)
    ap.add_argument("--budget", type=int, default=250)
    ap.add_argument("--memory-budget-mib", type=int, default=16)
    args = ap.parse_args()
    budget = args.memory_budget_mib << 20
    if find_trace() is None:
        print(f"tune: skipped (no shared/{TRACE} above {Path(__file__).parent})")
        return
    print(f"tune benchmark on {os.cpu_count()} CPUs; load {os.getloadavg()}")
    d = DaemonProcess({"daemon": {"plugins": ["workspace", "tune"], "workers": 2,
                                  "log_level": "warning"},
                       "workspace": {"memory_capacity": 8 << 20},
                       "tune": {"max_evaluations": max(250, args.budget)}})
    d.start()
    try:
        t0 = time.monotonic()
        path, n, puts = record(d, args.requests)
        with d.client(timeout=3600) as c:
            print(f"recorded {n} trace requests ({puts} puts) in {time.monotonic() - t0:.0f} s "
                  f"({path.name})")
            t0 = time.monotonic()
            run = c.call("tune.run", {"workload": "cloudphysics", "budget": args.budget,
                                      "first": 0.0, "last": 0.7, "memory_budget": budget})
            wall = time.monotonic() - t0
            held = {"workload": "cloudphysics", "first": 0.7, "last": 1.0,
                    "memory_budget": budget}
            tuned = c.call("tune.score", {**held, "config": run["best"]["config"]})
            default = c.call("tune.score", {**held, "config": DEFAULT})
            print(f"tuned on {run['accesses']} accesses in {wall:.1f} s, "
                  f"{run['evaluations']} evaluations; memory budget {args.memory_budget_mib} MiB")
            print(f"proposal: {run['best']['config']}")
            print(f"{'metric':<14} {'default':>8} {'tuned':>8}  (held out)")
            for m, v in tuned["metrics"].items():
                print(f"{m:<14} {default['metrics'][m]:>8.3f} {v:>8.3f}")
            policies = sorted({"lru", "lfu", "arc", "s3fifo", "sieve", "wtinylfu", "auto"})
            top = 2 * budget
            sizes = sorted({int(top * (i + 1) / 24) for i in range(24)})
            best_sweep: tuple[float, dict[str, Any]] = (0.0, {})
            t1 = time.monotonic()
            for p in policies:
                for size in sizes:
                    cfg = {"workspace": {"policy": p, "memory_capacity": size,
                                         "prefetch": run["best"]["config"]["workspace"]
                                         ["prefetch"]}}
                    s = c.call("tune.score", {**held, "config": cfg})["score"]
                    if s > best_sweep[0]:
                        best_sweep = (s, cfg)
            print(f"sweep: {len(policies)} policies × {len(sizes)} sizes on the held-out part "
                  f"in {time.monotonic() - t1:.0f} s; best {best_sweep[0]:.4f} at "
                  f"{best_sweep[1]}")
    finally:
        d.cleanup()
    vs = tuned["score"] / best_sweep[0]
    print(f"\ntune: heldout_score={tuned['score']:.4f} default_score={default['score']:.4f} "
          f"vs_sweep={vs:.4f} evaluations={run['evaluations']} wall_s={wall:.1f}")


if __name__ == "__main__":
    main()
