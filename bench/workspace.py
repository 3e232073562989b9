"""Workspace benchmark: hit ratios against libCacheSim and Belady, the pipeline
workload with compression and prefetch, and speed in-process and over the socket.

    .venv/bin/python bench/workspace.py            # everything, full traces
    .venv/bin/python bench/workspace.py --limit 300000 --skip-socket
    .venv/bin/python bench/workspace.py --only-zipf --alphas 0.6 0.7 0.9 1.1 1.2

Reads ../shared/corpus/traces relative to the repository (says so when absent;
the Zipf rows and the pipeline workload still run). Ends with one line:
workspace: auto_gap_to_best=.. prefetch_hit=.. lru_hit=.. io_saving=.. lru_mreq_s=..
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import workspace_hits as wh
import workspace_pipeline as wp
import workspace_speed as wsp

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


def hit_table(limit: int | None, jobs: int, alphas: list[float],
              traces: bool = True) -> list[dict[str, Any]]:
    todo: list[tuple[str, str | None, float | None, int | None]] = []
    if not traces:
        pass
    elif (CORPUS / "traces").is_dir():
        for path in wh.corpus_traces(CORPUS):
            name = str(path.relative_to(CORPUS / "traces")).replace(".trace", "")
            todo.append((name, str(path), None, limit))
    else:
        print(f"(no trace corpus at {CORPUS / 'traces'}: real-trace rows skipped)")
    todo += [(f"zipf-{a:g}", None, a, None) for a in alphas]
    rows: list[dict[str, Any]] = []
    with ProcessPoolExecutor(jobs) as pool:
        for done in pool.map(wh.job, todo):
            rows.extend(done)
            print(f"  … {done[0]['trace']} ({done[0]['requests']} requests)", file=sys.stderr)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, help="requests per trace (default: all)")
    ap.add_argument("--jobs", type=int, default=2, help="processes for the hit-ratio table")
    ap.add_argument("--skip-socket", action="store_true", help="skip the daemon measurement")
    ap.add_argument("--json", type=Path, help="also write every figure here")
    ap.add_argument("--alphas", type=float, nargs="+", default=[0.8, 1.0], metavar="A",
                    help="Zipf traces in table 1 (default: 0.8 1.0)")
    ap.add_argument("--only-zipf", action="store_true",
                    help="table 1 on the Zipf traces only, then stop")
    args = ap.parse_args()
    t0 = time.time()

    print("## 1. Hit ratios (object size 1; capacity = 1% and 10% of distinct keys)")
    print("ours: lru lfu arc s3f sieve wtlfu auto; L:* = libCacheSim 0.3.5; Belady = MIN\n")
    rows = hit_table(args.limit, args.jobs, args.alphas, traces=not args.only_zipf)
    wh.print_table(rows)
    gaps = [r["auto_gap"] for r in rows]
    share = [r["gap_share"] for r in rows]
    off = wh.conformance(rows)
    print(f"\nauto vs best single policy: worst gap {100 * max(gaps):+.2f} points, mean "
          f"{100 * sum(gaps) / len(gaps):+.2f}; rows within 1 point: "
          f"{sum(g <= 0.01 for g in gaps)}/{len(gaps)}")
    print(f"share of the LRU→Belady gap auto captures: median "
          f"{100 * sorted(share)[len(share) // 2]:.0f}%")
    print(f"conformance with libCacheSim (0.5 points, W-TinyLFU 1.5): "
          f"{'all rows within' if not off else f'{len(off)} outside'}")
    for line in off:
        print("  " + line)
    same = wh.identical(rows)
    print("rows with exactly libCacheSim's hits: " +
          ", ".join(f"{p} {n}/{len(rows)}" for p, n in same.items()))
    if args.only_zipf:
        return 0

    print("\n## 2. Pipeline workload\n")
    pipe = wp.run()
    wp.print_report(pipe)

    print("\n## 3. Speed\n")
    keys = wh.zipf_trace(1.0, n_keys=100_000, n_req=1_000_000, seed=7)
    rates = wsp.in_process(keys, 10_000)
    ct = rates["cachetools"]
    print("| replay (Zipf 1.0, 1 M requests, 10 k objects) | M requests per CPU s | "
          "vs cachetools |")
    print("|---|---|---|")
    for name, rate in rates.items():
        print(f"| {name} | {rate / 1e6:.2f} | {rate / ct:.2f}× |")
    first = wsp.first_call_s(len(keys), 10_000)
    cold = wsp.first_call_s(len(keys), 10_000, compiling=True)
    print(f"\nW-TinyLFU replays long traces with a loop compiled by numba; its first such "
          f"replay in a new process took {first:.2f} CPU s (numba's import and the cached "
          f"loop's load; {len(keys) / rates['wtinylfu']:.2f} s once loaded), and "
          f"{cold:.2f} s with nothing cached (it compiles the loop, as the first run after "
          "an install does).")
    sock: dict[str, float] = {}
    if not args.skip_socket:
        sock = wsp.over_socket()
        print(f"\nover the socket (pipelined, 256 in flight): workspace.get hits "
              f"{sock['get']:.0f}/s, system.ping {sock['ping']:.0f}/s, ratio "
              f"{sock['get'] / sock['ping']:.2f}")

    print(f"\n(total {time.time() - t0:.0f} s; machine shared with other work, so "
          "absolute rates are noisy; ratios are side by side)")
    if args.json:
        args.json.write_text(json.dumps({"hits": rows, "pipeline": pipe, "rates": rates,
                                         "socket": sock, "first_call_s": first,
                                         "first_call_compiling_s": cold},
                                        indent=1, default=str))
    print(f"workspace: auto_gap_to_best={100 * max(gaps):.2f} "
          f"prefetch_hit={pipe['prefetch_hit']:.3f} lru_hit={pipe['hits']['lru']:.3f} "
          f"io_saving={pipe['io_saving']:.2f} lru_mreq_s={rates['lru'] / 1e6:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
