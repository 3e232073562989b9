"""Monitor benchmark: what the monitor costs the daemon, and how long a /metrics scrape takes.

1. Pipelined `system.ping` throughput of two daemons run side by side, one with the
   monitor (sampling every second) and one without (both load testrun, so the only
   difference is the monitor); rounds alternate between them and the ratio of medians
   is reported.
2. /metrics scrape time with 50 busy methods and 6 plugins (bench/monitor_scrape.py).

Ends with one line:  monitor: overhead_ratio=.. scrape_ms=..

Usage: .venv/bin/python bench/monitor.py [--calls 1000000] [--rounds 5]
(each round lasts a few seconds, so the once-a-second sampler runs during it)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from ipc import WINDOW, pipelined
from monitor_scrape import scrape_figures

from daemon_process import DaemonProcess


def overhead(calls: int, rounds: int) -> dict[str, Any]:
    common = {"daemon": {"log_level": "warning", "workers": 1}}
    on = DaemonProcess({**common, "daemon": {**common["daemon"],
                                             "plugins": ["testrun", "monitor"]},
                        "monitor": {"interval_s": 1.0}}).start()
    off = DaemonProcess({**common, "daemon": {**common["daemon"],
                                              "plugins": ["testrun"]}}).start()
    try:
        with on.client() as c:
            assert "monitor" in c.call("system.hello")["plugins"], on.log()
        for d in (on, off):
            pipelined(d.socket, calls // 5, d.pid)  # warm up
        rates: dict[str, list[float]] = {"on": [], "off": []}
        procs = {"on": psutil.Process(on.pid), "off": psutil.Process(off.pid)}
        cpu0 = {n: sum(p.cpu_times()[:2]) for n, p in procs.items()}
        for r in range(rounds):
            order = (("on", on), ("off", off)) if r % 2 == 0 else (("off", off), ("on", on))
            for name, d in order:
                rates[name].append(pipelined(d.socket, calls, d.pid)[0])
        cpu = {n: sum(p.cpu_times()[:2]) - cpu0[n] for n, p in procs.items()}
        with on.client() as c:
            samples = c.call("system.stats")["plugins"]["monitor"]["samples"]
            url = c.call("system.hello")["http"]
        real = []
        for _ in range(30):
            t0 = time.perf_counter()
            urllib.request.urlopen(url + "metrics", timeout=10).read()
            real.append((time.perf_counter() - t0) * 1000)
    finally:
        on.cleanup()
        off.cleanup()
    return {"on": statistics.median(rates["on"]), "off": statistics.median(rates["off"]),
            "ratio": statistics.median(rates["on"]) / statistics.median(rates["off"]),
            "on_all": rates["on"], "off_all": rates["off"], "samples": samples,
            "real_scrape_ms": statistics.median(real), "cpu_on_s": cpu["on"],
            "cpu_off_s": cpu["off"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load[0]:.1f} at start "
          "(shared; absolute figures are noisy, the ratio is measured side by side)")
    o = overhead(args.calls, args.rounds)
    print(f"pipelined system.ping, {args.calls} calls x {args.rounds} rounds, window {WINDOW}:")
    print(f"  monitor on : median {o['on']:.0f} calls/s  "
          f"({', '.join(f'{x:.0f}' for x in o['on_all'])})")
    print(f"  monitor off: median {o['off']:.0f} calls/s  "
          f"({', '.join(f'{x:.0f}' for x in o['off_all'])})")
    print(f"  ratio on/off = {o['ratio']:.3f} (target >= 0.9); the monitor took "
          f"{o['samples']} samples meanwhile")
    total = args.calls * args.rounds
    print(f"  daemon CPU per call over the timed rounds: on {o['cpu_on_s'] / total * 1e6:.2f} µs, "
          f"off {o['cpu_off_s'] / total * 1e6:.2f} µs (ratio off/on "
          f"{o['cpu_off_s'] / o['cpu_on_s']:.3f}; steadier than throughput on a busy machine)")
    print(f"  real daemon /metrics scrape (testrun + monitor): median {o['real_scrape_ms']:.2f} ms")
    s = scrape_figures()
    print(f"/metrics with {s['methods']} busy methods (full {2048}-call latency windows) and "
          f"{s['plugins']} plugins, over HTTP: median {s['median_ms']:.2f} ms, "
          f"p95 {s['p95_ms']:.2f} ms ({s['lines']} lines, {s['bytes']} bytes; target < 20 ms)")
    print(f"  of which the core DaemonCollector: {s['daemon_collector_ms']:.2f} ms (every "
          f"method called since the last scrape, so no cached summary is reused); the "
          f"monitor's collector: {s['monitor_collector_ms']:.2f} ms")
    print(f"monitor: overhead_ratio={o['ratio']:.3f} scrape_ms={s['median_ms']:.2f}")


if __name__ == "__main__":
    main()
