"""distributed benchmark: island epochs on a real Dask cluster (127.0.0.1) vs the local pool.

Starts `dask scheduler` + `dask worker` processes (one thread each, no nanny), and
drives the daemon's two executor backends in this one process, side by side:

1. throughput of 4 islands with a 5 ms objective on 1 vs 2 Dask workers
   (CPU-bound objective, and a waiting one such as an external simulator);
2. the per-epoch overhead of Dask vs the local pool (1-generation epochs of a
   free objective: what is left is shipping islands and scheduling);
3. a projection of the scaling to N machines from those measured figures.

Ends with one line: `distributed: two_worker_speedup=.. epoch_overhead_ms=..`
Usage: .venv/bin/python bench/distributed_bench.py [--epochs 6] [--quick]
(Not `bench/distributed.py`: a module of that name would shadow the `distributed`
package for mypy and for `python bench/...` runs.)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import pickle
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "distributed"))

from dask_cluster import DaskCluster

from catalytic.daemon.executor import BaseExecutor, LocalExecutor
from catalytic.daemon.executor_dask import DaskExecutor
from catalytic.plugins.evolve.algorithms import Algorithm
from catalytic.plugins.evolve.islands import Evaluator, Optimizer, migrate, run_epoch
from catalytic.plugins.evolve.problems import get_problem

ISLANDS = 4
POP = 8
EVAL_S = 0.005


def new_islands(n: int = ISLANDS, pop: int = POP, seed: int = 1) -> list[Algorithm]:
    p = get_problem("zdt1")
    seeds = np.random.SeedSequence(seed).spawn(n)
    return [Algorithm(p.genome(), p.n_obj, pop, rng=np.random.default_rng(s)) for s in seeds]


async def evolve(ex: BaseExecutor, ev: Evaluator, epochs: int, gens: int,
                 islands: list[Algorithm] | None = None) -> tuple[float, int, list[float]]:
    """Wall time, evaluations and per-epoch times of `epochs` epochs (migrating between)."""
    isl: list[Optimizer] = list(islands or new_islands())
    start = sum(i.evaluations for i in isl)
    per: list[float] = []
    t0 = time.perf_counter()
    for _ in range(epochs):
        t = time.perf_counter()
        isl = list(await asyncio.gather(*(ex.submit(run_epoch, i, ev, gens) for i in isl)))
        migrate(isl, 0.125, "ring")
        per.append(time.perf_counter() - t)
    return time.perf_counter() - t0, sum(i.evaluations for i in isl) - start, per


async def connect(address: str) -> DaskExecutor:
    ex = DaskExecutor(address, connect_timeout_s=20, log=logging.getLogger("bench"))
    await ex.start()
    if ex.problems():
        raise SystemExit(f"cannot use the cluster: {ex.problems()}")
    return ex


async def throughput(cluster: DaskCluster, epochs: int, gens: int) -> dict[str, Any]:
    print(f"\n-- 1. throughput: {ISLANDS} islands × {POP}, {EVAL_S * 1e3:g} ms objective, "
          f"{epochs} epochs of {gens} generations, 1 vs 2 Dask workers (1 thread each)")
    out: dict[str, Any] = {}
    for label, ev in (("CPU-bound objective (spin)", Evaluator("zdt1", spin_s=EVAL_S)),
                      ("waiting objective (sleep)", Evaluator("zdt1", sleep_s=EVAL_S))):
        rates = {}
        for n in (1, 2):
            await set_workers(cluster, n)
            ex = await connect(cluster.address)
            await evolve(ex, ev, 1, 1)  # warm: workers import catalytic once
            best = 0.0
            for _ in range(2):
                wall, evals, _ = await evolve(ex, ev, epochs, gens)
                best = max(best, evals / wall)
            rates[n] = best
            await ex.close()
            print(f"   {label:28} {n} worker(s): {best:7.1f} evaluations/s (best of 2)")
        speedup = rates[2] / rates[1]
        print(f"   {label:28} 2 vs 1 workers: {speedup:.2f}×")
        out[label] = speedup
    return out


async def set_workers(cluster: DaskCluster, n: int) -> None:
    while len(cluster.live_workers()) < n:
        cluster.add_worker()
    while len(cluster.live_workers()) > n:
        w = cluster.live_workers()[-1]
        cluster.kill_worker(w.pid)
    await asyncio.to_thread(cluster.wait_for_workers, n)
    deadline = time.monotonic() + 30
    while len(cluster.info()["workers"]) != n and time.monotonic() < deadline:
        await asyncio.sleep(0.2)


async def overhead(cluster: DaskCluster, local: LocalExecutor, reps: int) -> dict[str, float]:
    print(f"\n-- 2. per-epoch overhead: 1 generation of a free objective, {reps} epochs each, "
          "2 workers on both sides, interleaved (median)")
    await set_workers(cluster, 2)
    ex = await connect(cluster.address)
    ev = Evaluator("zdt1")
    out: dict[str, float] = {}
    for n in (ISLANDS, 4 * ISLANDS):
        await evolve(ex, ev, 2, 1, new_islands(n))
        await evolve(local, ev, 2, 1, new_islands(n))
        dask_t: list[float] = []
        local_t: list[float] = []
        for _ in range(3):  # interleaved, so both see the same neighbours
            dask_t += (await evolve(ex, ev, reps // 3, 1, new_islands(n)))[2]
            local_t += (await evolve(local, ev, reps // 3, 1, new_islands(n)))[2]
        d, lo = statistics.median(dask_t) * 1e3, statistics.median(local_t) * 1e3
        out[f"overhead_{n}"] = d - lo
        print(f"   {n:2d} islands: local pool {lo:6.2f} ms per epoch, Dask {d:6.2f} ms "
              f"→ overhead {d - lo:6.2f} ms per epoch")
    await ex.close()
    per_task = (out[f"overhead_{4 * ISLANDS}"] - out[f"overhead_{ISLANDS}"]) / (3 * ISLANDS)
    out["per_task_ms"] = max(per_task, 0.0)
    out["fixed_ms"] = max(out[f"overhead_{ISLANDS}"] - ISLANDS * out["per_task_ms"], 0.0)
    out["overhead_ms"] = out[f"overhead_{ISLANDS}"]
    out["island_bytes"] = len(pickle.dumps(new_islands()[0]))
    print(f"   fit: overhead ≈ {out['fixed_ms']:.1f} ms + {out['per_task_ms']:.2f} ms × islands "
          f"per epoch; one island ({POP} members) pickles to {out['island_bytes']:.0f} bytes")
    return out


def project(gen_work_s: float, gens: int, oh: dict[str, float]) -> None:
    print("\n-- 3. projection to N machines of 2 cores, one worker per core, from the figures "
          "above")
    print("   model: epoch = islands × work / min(islands, 2N) + overhead(islands) + islands × "
          "2 × island bytes at 1 Gbit/s; the overhead fit is taken as independent of N "
          "(scheduler-bound); baseline: the local pool on one machine")
    for islands, g in ((4, gens), (64, gens), (64, 1)):
        work = gen_work_s * g  # one island's epoch
        transfer = 2 * islands * oh["island_bytes"] * 8 / 1e9
        dask_oh = (oh["fixed_ms"] + oh["per_task_ms"] * islands) / 1e3
        base = islands * work / min(islands, 2)
        row, stop, prev = [], None, None
        for n in (1, 2, 4, 8, 16, 32, 64):
            t = islands * work / min(islands, 2 * n) + dask_oh + transfer
            row.append(f"N={n}: {base / t:5.2f}×")
            if prev is not None and stop is None and prev / t < 1.10:
                stop = n
            prev = t
        print(f"   {islands:2d} islands, epochs of {g} generation(s) ({work * 1e3:.0f} ms per "
              f"island): " + "  ".join(row))
        print(f"        doubling stops paying (< 10 % faster) at N = {stop or '> 64'}"
              f"; the overhead equals one worker's share of the work at N ≈ "
              f"{islands * work / max(dask_oh, 1e-9) / 2:.0f}")


async def main_async(args: argparse.Namespace) -> None:
    local = LocalExecutor(2)  # forked before any thread exists
    local.prespawn()
    cluster = DaskCluster().start(workers=1)
    try:
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} "
              "(shared with other work)")
        tp = await throughput(cluster, args.epochs, args.gens)
        oh = await overhead(cluster, local, args.reps)
        project(POP * EVAL_S, args.gens, oh)
        speedup = tp["CPU-bound objective (spin)"]
        print(f"\nload average at the end {os.getloadavg()[0]:.2f}")
        print(f"distributed: two_worker_speedup={speedup:.2f} "
              f"epoch_overhead_ms={oh['overhead_ms']:.1f}")
    finally:
        cluster.close()
        local.shutdown()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--gens", type=int, default=5, help="generations per epoch")
    ap.add_argument("--reps", type=int, default=60, help="epochs for the overhead figure")
    ap.add_argument("--quick", action="store_true", help="fewer epochs (a smoke run)")
    args = ap.parse_args()
    if args.quick:
        args.epochs, args.reps = 2, 12
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
