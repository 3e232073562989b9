"""Loop-lag scenarios: drive one plugin's heaviest verb while another process pings.

`measure(socket, drive)` starts the pinger (tests/loop_lag/loop_lag_pinger.py), runs
`drive()` and returns `system.ping`'s latency percentiles during it. Each scenario
is a `(setup, drive)` pair over a sync client: setup (e.g. the puts before a run of
gets) is not measured. The test per plugin (tests/loop_lag) and the benchmark
(bench/loop_lag.py) share these, at modest and at full sizes.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from catalytic.client import Client

PINGER = Path(__file__).resolve().with_name("loop_lag_pinger.py")


@dataclass
class Lag:
    """`system.ping` latencies (ms) measured while a verb ran."""

    verb: str
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def pct(self, q: float) -> float:
        return float(np.percentile(self.latencies, q)) if self.latencies else math.nan

    @property
    def p50(self) -> float:
        return self.pct(50)

    @property
    def p99(self) -> float:
        return self.pct(99)

    @property
    def worst(self) -> float:
        return max(self.latencies, default=math.nan)

    def line(self) -> str:
        return (f"{self.verb:<28} pings={len(self.latencies):>6} p50={self.p50:7.2f} ms "
                f"p99={self.p99:8.2f} ms max={self.worst:8.2f} ms  ({self.seconds:.1f} s)")


def measure(socket: str | Path, verb: str, drive: Callable[[], Any],
            interval_ms: float = 2.0) -> Lag:
    """Ping every `interval_ms` from another process while `drive()` runs."""
    import time

    proc = subprocess.Popen([sys.executable, str(PINGER), str(socket), str(interval_ms)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        ready = proc.stdout.readline().strip()
        if ready != "ready":
            raise RuntimeError(f"the pinger did not start: {ready!r}")
        t0 = time.perf_counter()
        drive()
        seconds = time.perf_counter() - t0
        proc.stdin.close()
        out = proc.stdout.readline()
        proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return Lag(verb, json.loads(out), seconds)


# -- scenarios: each returns (setup, drive) over one sync client ------------------------------

Scenario = tuple[Callable[[], Any], Callable[[], Any]]


def dtlz2(genes: list[float], m: int) -> list[float]:
    """DTLZ2 with `m` objectives: a spherical front, cheap to compute client-side."""
    x = np.asarray(genes)
    g = float(((x[m - 1:] - 0.5) ** 2).sum())
    out = []
    for i in range(m):
        v = 1 + g
        for xj in x[: m - 1 - i]:
            v *= math.cos(xj * math.pi / 2)
        if i > 0:
            v *= math.sin(x[m - 1 - i] * math.pi / 2)
        out.append(v)
    return out


def evolve_ask_tell(c: Client, population: int, generations: int = 3, objectives: int = 3,
                    genes: int = 10) -> Scenario:
    """Create a study, then ask for and tell whole generations (each tell ends one)."""
    spec = {"genes": [{"name": f"x{i}", "type": "real", "low": 0, "high": 1}
                      for i in range(genes)],
            "objectives": [{"name": f"f{i}", "direction": "min"} for i in range(objectives)],
            "population": population, "seed": 7, "algorithm": "nsga2"}
    state: dict[str, Any] = {}

    def setup() -> None:
        state["sid"] = c.call("evolve.create", spec)["study"]

    def drive() -> None:
        sid = state["sid"]
        for _ in range(generations):
            cands = c.call("evolve.ask", {"study": sid, "n": population})["candidates"]
            names = [g["name"] for g in spec["genes"]]
            results = [{"id": k["id"], "values": dtlz2([k["genes"][n] for n in names],
                                                      objectives)} for k in cands]
            told = c.call("evolve.tell", {"study": sid, "results": results})
            assert told["generations_completed"] >= 1, told

    return setup, drive


def workspace_gets(c: Client, keys: int, size: int = 256) -> Scenario:
    """Put `keys` distinct values, then get each of them once (the touches flush)."""
    names = [f"lag/{i:06d}" for i in range(keys)]

    def setup() -> None:
        for i, k in enumerate(names):
            c.call("workspace.put", {"key": k, "data": i.to_bytes(4, "big") * (size // 4)})

    def drive() -> None:
        for k in names:
            assert c.call("workspace.get", {"key": k})["data"] is not None

    return setup, drive


def prd_document(tasks: int, per_section: int = 20) -> str:
    """A generated requirements document with about `tasks` list-item tasks."""
    lines = ["# Generated product", ""]
    for s in range(max(1, tasks // per_section)):
        lines += [f"## Area {s}", "", f"What area {s} delivers.", ""]
        lines += [f"- Implement capability {s}-{i} with integration tests and metrics"
                  for i in range(per_section)]
        lines.append("")
    return "\n".join(lines)


def prd_decompose(c: Client, tasks: int) -> Scenario:
    text = prd_document(tasks)

    def drive() -> None:
        out = c.call("prd.decompose", {"text": text, "document": f"lag-{tasks}"}, timeout=600)
        assert len(out["tasks"]) >= tasks, len(out["tasks"])

    return (lambda: None), drive


def prd_queries(c: Client, tasks: int) -> Scenario:
    """Decompose a ~`tasks`-task document (not measured), then the read verbs at their
    largest parameters: a whole page of `prd.tasks`, `prd.next` of 1,000, `prd.graph`,
    `prd.status` of every task, and one status set."""
    text = prd_document(tasks)
    doc = f"lag-read-{tasks}"

    def setup() -> None:
        c.call("prd.decompose", {"text": text, "document": doc}, timeout=600)

    def drive() -> None:
        page = c.call("prd.tasks", {"document": doc, "limit": 100_000}, timeout=600)
        assert page["total"] >= tasks and len(page["tasks"]) == min(page["total"], 100_000)
        first = page["tasks"][-1]["id"]
        assert c.call("prd.next", {"document": doc, "limit": 1000}, timeout=600)["tasks"]
        assert c.call("prd.graph", {"document": doc}, timeout=600)["valid"]
        assert len(c.call("prd.status", {"document": doc}, timeout=600)["status"]) >= tasks
        c.call("prd.status", {"document": doc, "id": first, "status": "done"}, timeout=600)

    return setup, drive


def testrun_suite(c: Client, root: Path, tests: int = 40) -> Scenario:
    """Write a small suite under `root` (an allowed root) and run it on the workers."""

    def setup() -> None:
        root.mkdir(parents=True, exist_ok=True)
        (root / "pytest.ini").write_text("[pytest]\npython_files = check_*.py\n")
        for f in range(4):
            body = "\n".join(f"def test_{f}_{i}():\n    assert sum(range({i})) >= 0\n"
                             for i in range(tests // 4))
            (root / f"check_{f}.py").write_text(body)

    def drive() -> None:
        out = c.call("testrun.run", {"root": str(root), "python": sys.executable}, timeout=600)
        assert out["passed"] == tests, {k: v for k, v in out.items() if k != "results"}

    return setup, drive


def space_heavy(c: Client, n: int, preset: str = "quick") -> Scenario:
    """A revolve checkpoint of `n` steps, then a validation sweep of `preset`."""

    def drive() -> None:
        c.call("space.checkpoint", {"strategy": "revolve", "n": n}, timeout=600)
        c.call("space.validate", {"preset": preset}, timeout=600)

    return (lambda: None), drive


def large_requests(c: Client, mib: int, times: int = 8) -> Scenario:
    """Frames of many MiB: `workspace.put` of a `mib` MiB value, `times` times (the "none"
    codec, so storing it costs little next to receiving it)."""
    value = bytes(range(256)) * (mib << 12)

    def drive() -> None:
        for i in range(times):
            out = c.call("workspace.put", {"key": f"big/{i}", "data": value, "codec": "none"},
                         timeout=600)
            assert out["key"] == f"big/{i}", out

    return (lambda: None), drive


def monitor_reports(c: Client, calls: int) -> Scenario:
    def drive() -> None:
        for _ in range(calls):
            c.call("monitor.report")

    return (lambda: None), drive


def run(socket: str | Path, verb: str, scenario: Scenario) -> Lag:
    setup, drive = scenario
    setup()
    return measure(socket, verb, drive)
