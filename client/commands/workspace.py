"""`catalytic ws ...`: put and get artifacts, show the workspace's stats, and
replay a trace through eviction policies.

The CLI reads and writes files itself, so `put`/`get` work on anything the user
can read; `simulate TRACE` sends the path and the daemon reads it (it must lie
under `workspace.trace_roots`).
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path
from typing import Any

POLICIES = ("lru", "lfu", "arc", "s3fifo", "sieve", "wtinylfu", "auto")


def register(sub: Any) -> None:
    ws = sub.add_parser("ws", help="the workspace: a tiered, compressed artifact cache")
    verbs = ws.add_subparsers(dest="ws_verb", required=True)

    p = verbs.add_parser("put", help="store FILE (or stdin with -); prints its key")
    p.add_argument("file", help="file to store, or - for stdin")
    p.add_argument("-k", "--key", help="key (default: BLAKE2b-256 of the content)")
    p.add_argument("--ttl", type=float, help="expire after this many seconds")
    p.add_argument("--codec", choices=("zstd", "lz4", "none"), help="override compression")
    p.set_defaults(func=run_put)

    p = verbs.add_parser("get", help="print KEY's value (or write it with -o); exit 1 if absent")
    p.add_argument("key")
    p.add_argument("-o", "--output", type=Path, help="write the value to this file")
    p.set_defaults(func=run_get)

    p = verbs.add_parser("stats", help="per-tier hits, bytes, compression, prefetch, policy")
    p.set_defaults(func=run_stats)

    p = verbs.add_parser("simulate", help="replay a trace through policies and capacities")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("trace", nargs="?", type=Path, help="trace file on this machine")
    src.add_argument("--keys-file", type=Path, help="upload keys from a text file (one a line)")
    src.add_argument("--zipf", type=float, metavar="ALPHA", help="upload a generated Zipf trace")
    p.add_argument("-c", "--capacity", type=int, action="append", required=True,
                   help="capacity in objects (repeat for several)")
    p.add_argument("-p", "--policies", default="lru,arc,s3fifo,sieve,wtinylfu,auto",
                   help="comma-separated policies (default: %(default)s)")
    p.add_argument("--format", default="auto", help="trace format (auto, text, i32, u32, i64,"
                                                    " columns)")
    p.add_argument("--limit", type=int, help="replay at most this many requests")
    p.add_argument("--prefetch", action="store_true", help="also prefetch predicted successors")
    p.add_argument("--requests", type=int, default=100_000, help="requests for --zipf")
    p.set_defaults(func=run_simulate)


def run_put(args: argparse.Namespace, cli: Any) -> int:
    data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    params: dict[str, Any] = {"data": data}
    if args.key:
        params["key"] = args.key
    if args.ttl is not None:
        params["ttl_s"] = args.ttl
    if args.codec:
        params["codec"] = args.codec
    result = cli.call("workspace.put", params)

    def human(console: Any) -> None:
        console.print(f"{result['key']}  [dim]{result['size']} bytes → {result['stored_size']} "
                      f"stored ({result['codec']}), in {result['tier']}[/]")

    cli.emit(result, human)
    return 0


def run_get(args: argparse.Namespace, cli: Any) -> int:
    result = cli.call("workspace.get", {"key": args.key})
    if result["data"] is None:
        cli.err.print(f"[red]no such key:[/] {args.key}")
        return 1
    if cli.json:
        cli.emit(result)
    elif args.output:
        args.output.write_bytes(result["data"])
        cli.err.print(f"wrote {len(result['data'])} bytes to {args.output} "
                      f"[dim](from the {result['tier']} tier)[/]")
    else:
        sys.stdout.buffer.write(result["data"])
        sys.stdout.flush()
    return 0


def run_stats(args: argparse.Namespace, cli: Any) -> int:
    result = cli.call("workspace.stats")

    def human(console: Any) -> None:
        from rich.table import Table

        # one column per tier, so the table fits an 80-column terminal
        table = Table(title=f"workspace (policy: {result['policy']})")
        table.add_column("")
        for tier in ("memory", "disk"):
            table.add_column(tier, justify="right")
        mem, disk = result["memory"], result["disk"]
        for label, show in (("entries", str), ("bytes", _size), ("capacity", _size),
                            ("hits", str), ("misses", str), ("hit ratio", "{:.3f}".format),
                            ("evictions", str)):
            key = label.replace(" ", "_")
            table.add_row(label, show(mem[key]), show(disk[key]))
        console.print(table)
        c, pf = result["compression"], result["prefetch"]
        console.print(f"compression: {c['codec']}, ratio {c['ratio']:.2f}, "
                      f"{_size(c['bytes_saved'])} saved")
        console.print(f"prefetch: {'on' if pf['enabled'] else 'off'}, issued {pf['issued']}, "
                      f"used {pf['used']}, precision {pf['precision']:.2f}, "
                      f"coverage {pf['coverage']:.2f}")
        if result["corrupt_removed"]:
            console.print(f"[yellow]corrupt blobs removed: {result['corrupt_removed']}[/]")

    cli.emit(result, human)
    return 0


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def _zipf(alpha: float, n_req: int, n_keys: int = 100_000, seed: int = 1) -> list[int]:
    weights = [1.0 / (r + 1) ** alpha for r in range(n_keys)]
    return random.Random(seed).choices(range(n_keys), weights=weights, k=n_req)


def run_simulate(args: argparse.Namespace, cli: Any) -> int:
    policies = [p.strip() for p in args.policies.split(",") if p.strip()]
    unknown = [p for p in policies if p not in POLICIES]
    if unknown:
        cli.err.print(f"[red]unknown policies {unknown}[/]; choose from {', '.join(POLICIES)}")
        return 2
    params: dict[str, Any] = {"policies": policies, "capacities": args.capacity,
                              "prefetch": args.prefetch}
    if args.limit:
        params["limit"] = args.limit
    if args.trace is not None:
        params.update(trace=str(args.trace.expanduser().resolve()), format=args.format)
    elif args.keys_file is not None:
        keys = []
        for no, line in enumerate(args.keys_file.read_text().splitlines(), 1):
            if line.strip():
                try:
                    keys.append(int(line.strip().rstrip("*")))
                except ValueError:
                    cli.err.print(f"[red]{args.keys_file}: line {no}: not an integer key[/]")
                    return 2
        params["keys"] = keys
    else:
        params["keys"] = _zipf(args.zipf, args.requests)
    result = cli.call("workspace.simulate", params)

    def human(console: Any) -> None:
        from rich.table import Table

        table = Table(title=f"{result['requests']} requests, {result['distinct']} distinct keys")
        table.add_column("capacity", justify="right")
        for p in policies:
            table.add_column(p, justify="right")
        rows: dict[int, dict[str, float]] = {}
        for r in result["results"]:
            rows.setdefault(r["capacity"], {})[r["policy"]] = r["hit_ratio"]
        for cap, by_policy in rows.items():
            best = max(by_policy.values())
            table.add_row(str(cap), *[(f"[bold]{by_policy[p]:.4f}[/]" if by_policy[p] == best
                                       else f"{by_policy[p]:.4f}") for p in policies])
        console.print(table)

    cli.emit(result, human)
    return 0
