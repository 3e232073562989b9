"""testrun benchmark: real open-source suites, serial vs pytest-xdist vs catalytic.

Each suite is installed from its PyPI sdist into its own virtualenv under
bench/.envs/ (gitignored; created on first use, needs the package index once).
Everything is measured side by side in this one run, on this machine, with 2
workers. Ends with one line:

    testrun: warm_vs_xdist=.. warm_vs_lower_bound=.. cold_vs_xdist=..

(geometric means over the suites; below 1 means catalytic was faster).
Usage: .venv/bin/python bench/testrun.py [--suite networkx] [--workers 2]
"""

from __future__ import annotations

import argparse
import math
import re
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from catalytic.plugins.testrun.schedule import lower_bound  # noqa: E402

from daemon_process import DaemonProcess  # noqa: E402

ENVS = ROOT / "bench" / ".envs"
KEYS = ("passed", "failed", "skipped", "xfailed", "xpassed", "errors")


@dataclass
class Suite:
    name: str
    version: str
    args: list[str]
    extra: list[str] = field(default_factory=list)

    @property
    def src(self) -> Path:
        return ENVS / f"{self.name}-{self.version}"

    @property
    def python(self) -> Path:
        return ENVS / f"{self.name}-venv" / "bin" / "python"


SUITES = [
    # Graph algorithms: ~6,000 small tests, a few slow modules. One test is deselected in
    # every mode: its graph comes from the unseeded global `random` state, so its run time
    # depends on which tests ran before it in the same process (seconds serially, past 8
    # minutes in one parallel order we measured).
    Suite("networkx", "3.6.1", ["networkx", "--deselect", "networkx/algorithms/connectivity/"
                                "tests/test_kcutsets.py::test_configuration"]),
    # Syntax highlighting: ~5,000 tiny tests (parametrized lexers, example files), a few slow.
    Suite("pygments", "2.21.0", ["tests", "--ignore=tests/contrast"]),
]


def sh(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=False, **kw)


def ensure(s: Suite) -> None:
    """Download the sdist, unpack it, make a venv with pytest, xdist and the package."""
    if s.python.exists() and s.src.exists():
        return
    sdists = ENVS / "sdists"
    sdists.mkdir(parents=True, exist_ok=True)
    tgz = sdists / f"{s.name}-{s.version}.tar.gz"
    if not tgz.exists():
        out = sh([sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps",
                  "-d", str(sdists), f"{s.name}=={s.version}"])
        if out.returncode:
            raise SystemExit(f"cannot download {s.name} {s.version}: {out.stderr[-500:]}")
    with tarfile.open(tgz) as tar:
        tar.extractall(ENVS, filter="data")
    if not has_pytest_config(s.src):
        # Pin the rootdir to the suite (else pytest walks up to this repository's config).
        (s.src / "pytest.ini").write_text("[pytest]\n")
    venv = s.python.parent.parent
    sh(["python3", "-m", "venv", str(venv)])
    out = sh([str(venv / "bin" / "pip"), "install", "-q", "pytest", "pytest-xdist", *s.extra,
              str(s.src)])
    if out.returncode:
        raise SystemExit(f"cannot install {s.name}: {out.stderr[-800:]}")


def has_pytest_config(src: Path) -> bool:
    checks = {"pytest.ini": "", "pyproject.toml": "[tool.pytest.ini_options]",
              "setup.cfg": "[tool:pytest]", "tox.ini": "[pytest]"}
    return any((src / f).exists() and key in (src / f).read_text() for f, key in checks.items())


def counts(text: str) -> dict[str, int]:
    line = [ln for ln in text.strip().splitlines() if re.search(r"\d+ (passed|failed)", ln)]
    found = dict.fromkeys(KEYS, 0)
    for n, word in re.findall(r"(\d+) (passed|failed|skipped|xfailed|xpassed|errors?)",
                              line[-1] if line else ""):
        found["errors" if word.startswith("error") else word] = int(n)
    return found


def pytest_wall(s: Suite, extra: list[str]) -> tuple[float, dict[str, int]]:
    cmd = [str(s.python), "-m", "pytest", "-q", "-p", "no:cacheprovider", *s.args, *extra]
    t = time.perf_counter()
    out = sh(cmd, cwd=s.src)
    return time.perf_counter() - t, counts(out.stdout)


def catalytic_runs(s: Suite, workers: int) -> list[tuple[float, dict[str, Any]]]:
    d = DaemonProcess({"testrun": {"allowed_roots": [str(ENVS)], "timeout_s": 300,
                                   "allowed_interpreters": [str(ENVS)]}})
    d.start()
    try:
        with d.client() as c:
            c.call("testrun.forget", {"root": str(s.src)})
            runs = []
            for i in range(2):
                if i and not wait_warm(c):
                    print("  (no warm workers were ready for the second run)", flush=True)
                t = time.perf_counter()
                r = c.call("testrun.run", {"root": str(s.src), "python": str(s.python),
                                           "workers": workers, "args": s.args}, timeout=3600)
                runs.append((time.perf_counter() - t, r))
            return runs
    finally:
        d.cleanup()


def wait_warm(c: Any, limit: float = 900) -> bool:
    """Between runs: wait until the standby workers have collected (as after a pause). With
    `testrun.record = "background"` (the default) the standby starts once the background
    recording of the first run's tests is done, so that is waited for first."""
    end = time.monotonic() + limit
    time.sleep(0.5)
    while time.monotonic() < end:
        st = c.call("system.stats").get("plugins", {}).get("testrun", {})
        if st.get("warm_ready"):
            return True
        if not st.get("warm_preparing") and not st.get("recording"):
            return False  # no standby set up (or it was dropped)
        time.sleep(0.2)
    return False


def geomean(xs: list[float]) -> float:
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--suite", action="append", help="only these suites")
    ap.add_argument("--workers", type=int, default=2)
    opts = ap.parse_args()
    suites = [s for s in SUITES if not opts.suite or s.name in opts.suite]
    n = opts.workers
    rows, warm_x, warm_lb, cold_x = [], [], [], []
    for s in suites:
        ensure(s)
        print(f"# {s.name} {s.version}: serial, xdist load, xdist worksteal, catalytic cold/warm",
              flush=True)
        serial, serial_counts = pytest_wall(s, [])
        load, load_counts = pytest_wall(s, ["-n", str(n)])
        steal, steal_counts = pytest_wall(s, ["-n", str(n), "--dist", "worksteal"])
        (cold, cold_r), (warm, warm_r) = catalytic_runs(s, n)
        lb = lower_bound([r["duration_s"] for r in warm_r["results"]], n)
        best = min(load, steal)
        parity = all({k: r[k] for k in KEYS} == serial_counts for r in (cold_r, warm_r))
        rows.append((s.name, warm_r["tests"], serial, load, steal, cold, warm, lb,
                     warm_r["makespan_s"], lb / warm, parity))
        warm_x.append(warm / best)
        warm_lb.append(warm / lb)
        cold_x.append(cold / best)
        print(f"  serial {serial_counts}\n  xdist load {load_counts}\n"
              f"  worksteal {steal_counts}\n  catalytic warm "
              f"{ {k: warm_r[k] for k in KEYS} }\n  warm expected makespan "
              f"{warm_r['expected_makespan_s']:.1f}s, order-dependent "
              f"{warm_r['order_dependent']}", flush=True)
    head = ("suite", "tests", "serial s", "-n2 load s", "-n2 worksteal s", "cat cold s",
            "cat warm s", "lower bound s", "warm makespan s", "warm efficiency",
            "same outcomes")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in rows:
        cells = [f"{v:.1f}" if isinstance(v, float) else str(v) for v in row]
        cells[9] = f"{row[9]:.2f}"
        print("| " + " | ".join(cells) + " |")
    print(f"testrun: warm_vs_xdist={geomean(warm_x):.2f} "
          f"warm_vs_lower_bound={geomean(warm_lb):.2f} cold_vs_xdist={geomean(cold_x):.2f}")


if __name__ == "__main__":
    main()
