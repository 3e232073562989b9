"""Abuse benchmark: issue 15's memory findings 7-12 against one daemon with a 512 MiB budget.

Each abusive call or peer is tried against a fresh daemon (so memory one
finding leaves behind does not count against the next) while another
connection pings every 20 ms and the daemon's RSS is sampled every 50 ms. An
abuse counts as handled when the daemon refused it (a documented error code)
or stayed within its budget + 100 MiB while serving it, answering pings within
1 s. Prints one line per finding and ends with:

    abuse: peak_rss_mb=.. worst_ping_ms=.. refused=N/N

Usage: .venv/bin/python bench/abuse.py [--quick]
(--quick shrinks the flood sizes, for a smoke run.)
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgpack
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from catalytic.client import Client, RpcError

from daemon_process import DaemonProcess

BUDGET = 536870912
SLACK = 100 << 20


class Watch:
    """Pings on its own connection and samples the daemon's RSS, in background threads."""

    def __init__(self, d: DaemonProcess) -> None:
        self.proc = psutil.Process(d.pid)
        self.client = Client(d.socket)
        self.stop = threading.Event()
        self.peak = 0
        self.worst_ping = 0.0
        self.threads = [threading.Thread(target=self._ping, daemon=True),
                        threading.Thread(target=self._rss, daemon=True)]
        for t in self.threads:
            t.start()

    def _ping(self) -> None:
        while not self.stop.is_set():
            started = time.perf_counter()
            try:
                self.client.call("system.ping", timeout=30)
            except Exception:
                self.worst_ping = max(self.worst_ping, 30.0)
                return
            self.worst_ping = max(self.worst_ping, time.perf_counter() - started)
            time.sleep(0.02)

    def _rss(self) -> None:
        while not self.stop.is_set():
            try:
                rss = self.proc.memory_info().rss
            except psutil.Error:
                return
            self.peak = max(self.peak, rss)
            time.sleep(0.05)

    def close(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(5)
        self.client.close()


def raw_socket(d: DaemonProcess) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(str(d.socket))
    return s


def refused(c: Client, method: str, params: dict[str, Any], timeout: float = 120
            ) -> tuple[bool, str]:
    """(refused with a documented code?, what happened) for one call."""
    try:
        c.call(method, params, timeout=timeout)
    except RpcError as exc:
        return exc.code != -32603, f"{method} -> {exc.code} {exc.message[:90]}"
    except Exception as exc:
        return False, f"{method} -> {type(exc).__name__}: {exc}"
    return False, f"{method} -> answered"


# -- the findings -----------------------------------------------------------------------------
def f7_evolve(d: DaemonProcess, quick: bool) -> tuple[bool, str]:
    genes = [{"name": f"g{i}", "type": "real", "low": 0, "high": 1} for i in range(1000)]
    with d.client() as c:
        try:
            study = c.call("evolve.create", {"genes": genes, "objectives": [{"name": "f"}],
                                             "population": 10_000, "islands": 256},
                           timeout=120)
        except RpcError as exc:
            return exc.code != -32603, f"evolve.create -> {exc.code} {exc.message[:90]}"
        ok, note = refused(c, "evolve.ask", {"study": study["study"], "n": 1})
        ok_run, note_run = refused(c, "evolve.run", {"problem": "zdt1", "population": 10_000,
                                                     "islands": 256, "generations": 2,
                                                     "deadline_ms": 60_000})
    return ok and ok_run, f"create answered; {note}; {note_run}"


def f8_get_many(d: DaemonProcess, quick: bool) -> tuple[bool, str]:
    with d.client() as c:
        value = b"v" * (50 << 20)
        try:
            c.call("workspace.put", {"key": "big", "data": value}, timeout=120)
        except RpcError as exc:
            return exc.code != -32603, f"workspace.put 50 MB -> {exc.code}"
        del value
        return refused(c, "workspace.get_many", {"keys": ["big"] * 10})


def f9_unread(d: DaemonProcess, quick: bool) -> tuple[bool, str]:
    hello = msgpack.packb([0, 1, "system.hello", []])
    burst = hello * (440_000 // len(hello))
    peers = [raw_socket(d) for _ in range(6)]
    sent = []
    for s in peers:
        s.settimeout(5)
        try:
            s.sendall(burst)
            sent.append(len(burst))
        except OSError:  # held back: the daemon stopped reading a peer that does not read
            sent.append(-1)
    time.sleep(2)
    for s in peers:
        s.close()
    held = sum(1 for n in sent if n < 0)
    return False, f"6 peers x 440 KB of system.hello, never reading: {held} held back"


def f10_notifications(d: DaemonProcess, quick: bool) -> tuple[bool, str]:
    n = 20_000 if quick else 200_000
    note = msgpack.packb([2, "example.sleep", [{"seconds": 600.0}]])
    s = raw_socket(d)
    s.settimeout(30)
    try:
        s.sendall(note * n)
    except OSError:
        pass
    time.sleep(1)
    s.close()
    time.sleep(1)
    with d.client() as c:
        sleep = c.call("system.stats")["methods"].get("example.sleep", {})
    errors = sleep.get("errors", {})
    return False, (f"{n} notifications: {errors.get('-32002', 0)} refused over max_inflight, "
                  f"{errors.get('-32000', 0)} cancelled when the peer left")


def f11_record(d: DaemonProcess, quick: bool) -> tuple[bool, str]:
    with d.client() as c:
        c.call("system.record", action="start", name="abuse")
        codes = []
        for _ in range(20):
            try:
                c.call("workspace.get", key="k" * (10 << 20), timeout=60)
                codes.append(0)
            except RpcError as exc:
                codes.append(exc.code)
        status = c.call("system.record", action="status")
        c.call("system.record", action="stop")
    held = status["bytes"] < (1 << 20)
    return held and 0 not in codes, (f"20 x workspace.get of a 10 MB key -> codes "
                                     f"{sorted(set(codes))}; recording holds "
                                     f"{status['calls']} calls, {status['bytes']} bytes")


def f12_idle(d: DaemonProcess, quick: bool) -> tuple[bool, str]:
    n = 2048
    held = []
    try:
        for _ in range(n):
            held.append(raw_socket(d))
        time.sleep(1.5)
        with d.client() as c:
            c.call("system.ping", timeout=10)
        return False, f"{n} silent connections held; a new client was served"
    except Exception as exc:
        return False, f"{n} silent connections: a new client failed: {exc}"
    finally:
        for s in held:
            s.close()


FINDINGS: list[tuple[str, Callable[[DaemonProcess, bool], tuple[bool, str]]]] = [
    ("7 evolve population x islands", f7_evolve),
    ("8 workspace.get_many 10 x 50 MB", f8_get_many),
    ("9 peers that never read", f9_unread),
    ("10 200k notifications", f10_notifications),
    ("11 record of rejected calls", f11_record),
    ("12 2,048 idle connections", f12_idle),
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    handled = 0
    peak, worst = 0, 0.0
    print(f"budget {BUDGET >> 20} MiB (+{SLACK >> 20} MiB slack); a fresh daemon per finding")
    for name, run in FINDINGS:
        d = DaemonProcess({"daemon": {"memory_budget": BUDGET, "log_level": "info"}}).start()
        watch = Watch(d)
        try:
            time.sleep(1)
            idle = watch.peak
            started = time.monotonic()
            try:
                was_refused, note = run(d, args.quick)
            except Exception as exc:
                was_refused, note = False, f"{type(exc).__name__}: {exc}"
            time.sleep(0.5)
            alive = d.running()
        finally:
            watch.close()
            d.cleanup()
        bounded = watch.peak <= BUDGET + SLACK and watch.worst_ping < 1.0 and alive
        verdict = "refused" if was_refused else ("bounded" if bounded else "NOT BOUNDED")
        handled += was_refused or bounded
        peak, worst = max(peak, watch.peak), max(worst, watch.worst_ping)
        print(f"finding {name:<32} {verdict:<11} idle {idle / 2**20:4.0f} MiB, peak "
              f"{watch.peak / 2**20:5.0f} MiB, worst ping {watch.worst_ping * 1000:6.0f} ms, "
              f"{time.monotonic() - started:5.1f} s{'' if alive else ', DAEMON DIED'}: {note}")
    print(f"abuse: peak_rss_mb={peak / 2**20:.0f} worst_ping_ms={worst * 1000:.0f} "
          f"refused={handled}/{len(FINDINGS)}")


if __name__ == "__main__":
    main()
