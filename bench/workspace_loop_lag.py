"""How long `workspace.get` and friends keep the daemon's event loop busy.

Puts 3,000 keys, then gets them all (three passes) from one connection while
another connection pings every 2 ms; reports the ping latencies. A loop that
never blocks answers ping in well under a millisecond plus scheduling noise.

    .venv/bin/python bench/workspace_loop_lag.py [--keys 3000] [--passes 3]

Ends with one line: workspace_loop_lag: ping_p99_ms=.. ping_max_ms=.. pings=.. gets=..
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "workspace"))

from ping_probe import get_each, pings_during, put_keys  # noqa: E402

from daemon_process import DaemonProcess  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keys", type=int, default=3000)
    ap.add_argument("--passes", type=int, default=3)
    args = ap.parse_args()
    d = DaemonProcess({"daemon": {"plugins": ["workspace"], "log_level": "warning"},
                       "http": {"enabled": False}})
    d.start()
    try:
        async def run() -> list[float]:
            c = await d.aclient()
            keys = await put_keys(c, args.keys)
            await c.close()

            async def work(client: Any) -> None:
                for _ in range(args.passes):
                    await get_each(client, keys)

            return await pings_during(d, work)

        lat = asyncio.run(run())
    finally:
        d.stop()
        d.cleanup()
    a = np.array(lat)
    print(f"pings {len(a)}: p50 {np.percentile(a, 50):.2f} ms, p99 {np.percentile(a, 99):.2f} ms,"
          f" max {a.max():.2f} ms")
    print(f"workspace_loop_lag: ping_p99_ms={np.percentile(a, 99):.2f} ping_max_ms={a.max():.2f}"
          f" pings={len(a)} gets={args.keys * args.passes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
