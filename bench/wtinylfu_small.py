"""W-TinyLFU with a shallower sketch against libCacheSim's, at capacities of 100-1,000 objects.

    .venv/bin/python bench/wtinylfu_small.py              # 4 counters a key, 500,000 requests
    .venv/bin/python bench/wtinylfu_small.py --hashes 10  # the default sketch: all +0.00

Why the workspace keeps libCacheSim's 10 counters per key although 4 (Caffeine's depth)
would replay faster: with another sketch every admission contest can go the other way,
and below 1,000 objects, where the window holds a handful of keys, that adds up. Prints,
per corpus trace, our hit ratio minus libCacheSim's in points at each capacity, then the
largest difference. Needs ../shared/corpus/traces (says so when absent).
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import workspace_hits as wh

from catalytic.plugins.workspace.policies.sketch import DEPTH
from catalytic.plugins.workspace.policies.wtinylfu import WTinyLFU
from catalytic.plugins.workspace.traces import read_trace

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
CAPACITIES = (100, 113, 137, 150, 199, 250, 320, 399, 640, 1000)


def differences(args: tuple[str, int | None, int]) -> list[float]:
    """Ours minus libCacheSim's, in points of hit ratio, at each capacity."""
    path, limit, hashes = args
    keys = read_trace(path, limit=limit)
    out = []
    for cap in CAPACITIES:
        ours = WTinyLFU(cap, hashes=hashes).replay(keys) / len(keys)
        theirs = wh.lcs_hit_ratios(keys, cap, ("WTinyLFU",))["lcs_wtinylfu"]
        out.append(100 * (ours - theirs))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=500_000,
                    help="requests per trace (0: all; default 500000)")
    ap.add_argument("--hashes", type=int, default=DEPTH,
                    help=f"counters per key in our sketch (default {DEPTH})")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    if not (CORPUS / "traces").is_dir():
        print(f"no trace corpus at {CORPUS / 'traces'}: nothing to compare")
        return 0
    paths = wh.corpus_traces(CORPUS)
    limit = args.limit or None
    print(f"ours ({args.hashes} counters a key) minus libCacheSim's W-TinyLFU (10), points "
          "of hit ratio, by capacity in objects\n")
    print("| trace | " + " | ".join(map(str, CAPACITIES)) + " |")
    print("|---|" + "---|" * len(CAPACITIES))
    worst = (0.0, "", 0)
    with ProcessPoolExecutor(args.jobs) as pool:
        jobs = [(str(p), limit, args.hashes) for p in paths]
        for path, diffs in zip(paths, pool.map(differences, jobs), strict=True):
            name = str(path.relative_to(CORPUS / "traces"))
            print(f"| {name} | " + " | ".join(f"{d:+.2f}" for d in diffs) + " |", flush=True)
            for cap, d in zip(CAPACITIES, diffs, strict=True):
                if abs(d) > abs(worst[0]):
                    worst = (d, name, cap)
    print(f"\nlargest difference: {worst[0]:+.2f} points ({worst[1]} at {worst[2]} objects); "
          "the issue allows 1.5")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
