"""The replay benchmark finishes when a mutant makes a run hang: each run has a time limit,
a plain pytest run over it is killed with its process group, a catalytic call over it is
cancelled, and the bench's connection survives both (and a daemon closing it when idle)."""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest
from suites import config, write_suite

BENCH = Path(__file__).resolve().parents[2] / "bench" / "testrun_history.py"

HANGS = {"check_hang.py": "import time\n\n\ndef test_ok():\n    pass\n\n\n"
                          "def test_hangs():\n    time.sleep(600)\n"}


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("testrun_history_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_run_past_its_limit_is_killed_with_its_children(bench: ModuleType,
                                                          tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    script = f"import subprocess, time; p = subprocess.Popen(['sleep', '300']); " \
             f"open({str(pidfile)!r}, 'w').write(str(p.pid)); time.sleep(300)"
    t = time.monotonic()
    code, _ = bench.run_limited([sys.executable, "-c", script], tmp_path, 3.0)
    assert code is None and time.monotonic() - t < 60
    child = int(pidfile.read_text())
    deadline = time.monotonic() + 10
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)  # reaped by init once killed
    assert not alive(child)


def test_limits_and_timeout_verdicts(bench: ModuleType) -> None:
    assert bench.limit_for(None) == bench.FIRST_LIMIT_S
    assert bench.limit_for(5.0) == 60.0 and bench.limit_for(40.0) == 120.0
    full_timeout = bench.Outcome(60.0, {bench.TIMEOUT}, 0, None, "timeout")
    assert bench.agrees(full_timeout, bench.Outcome(1.0, {"a.py::t"}, 1))
    assert bench.agrees(full_timeout, bench.Outcome(60.0, {bench.TIMEOUT}, 0, None, "timeout"))
    assert not bench.agrees(full_timeout, bench.Outcome(1.0, set(), 1))
    full = bench.Outcome(5.0, {"a.py::t"}, 3)
    assert not bench.agrees(full, bench.Outcome(60.0, {bench.TIMEOUT}, 0, None, "timeout"))


def test_hanging_suite_times_out_for_pytest_and_catalytic_and_the_daemon_goes_on(
        bench: ModuleType, make_daemon, tmp_path: Path) -> None:
    root = write_suite(tmp_path / "hang", HANGS)
    (root / "pytest.ini").write_text("[pytest]\npython_files = check_*.py\n")
    python = Path(sys.executable)
    serial = bench.pytest_run(python, root, [], 8.0)
    assert serial.note == "timeout" and serial.failing == {bench.TIMEOUT}
    d = make_daemon({**config(tmp_path), "limits": {"idle_timeout_s": 2.0}})
    c = bench.Connection(d)
    try:
        got = bench.affected(c, root, python, "all", limit=8.0)
        assert got.note == "timeout" and got.failing == {bench.TIMEOUT}
        assert bench.agrees(serial, got)
        before = c.client
        time.sleep(4.0)  # past the daemon's idle timeout: it closes the connection
        (root / "check_hang.py").write_text("def test_ok():\n    pass\n")
        again = bench.affected(c, root, python, "all", limit=120.0)
        assert again.note == "" and again.failing == set() and again.tests == 1
        assert c.client is not before  # reconnected, not ended as "client is closed"
        assert c.call("system.ping") is not None
    finally:
        c.close()
    assert d.running()
