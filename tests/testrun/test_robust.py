"""Crashes, hangs, cancellation, the memory budget and order-dependence, over a real daemon."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import psutil
import pytest
from suites import config, write_suite

from catalytic.client.errors import DeadlineExceeded

CRASHY = {
    "check_crash.py": """
import ctypes
import os


def test_before():
    pass


def test_exit():
    os._exit(3)


def test_after():
    pass


def test_segfault():
    ctypes.string_at(0)


def test_last():
    pass
""",
    "check_fine.py": "def test_one():\n    pass\n\n\ndef test_two():\n    pass\n",
}


def run(c, root: Path, workers: int = 2, timeout: float = 120):
    return c.call("testrun.run", {"root": str(root), "python": sys.executable,
                                  "workers": workers, "args": []}, timeout=timeout)


def test_crashing_tests_fail_with_the_reason_and_the_run_goes_on(make_daemon,
                                                                 tmp_path: Path) -> None:
    root = write_suite(tmp_path / "crash", CRASHY)
    d = make_daemon(config(tmp_path))
    with d.client() as c:
        r = run(c, root)
    by_id = {x["nodeid"]: x for x in r["results"]}
    assert r["tests"] == 7
    assert by_id["check_crash.py::test_exit"]["outcome"] == "failed"
    assert "exited with status 3" in by_id["check_crash.py::test_exit"]["message"]
    assert by_id["check_crash.py::test_segfault"]["outcome"] == "failed"
    assert "SIGSEGV" in by_id["check_crash.py::test_segfault"]["message"]
    assert "Segmentation fault" in by_id["check_crash.py::test_segfault"]["longrepr"]
    for ok in ("check_crash.py::test_before", "check_crash.py::test_after",
               "check_crash.py::test_last", "check_fine.py::test_one", "check_fine.py::test_two"):
        assert by_id[ok]["outcome"] == "passed", ok
    assert r["passed"] == 5 and r["failed"] == 2 and r["exit_status"] == 1
    assert len(r["order"]) >= 3  # crashed workers were replaced


def test_hung_test_is_killed_at_the_timeout(make_daemon, tmp_path: Path) -> None:
    root = write_suite(tmp_path / "hang", {
        "check_hang.py": "import time\n\n\ndef test_hangs():\n    time.sleep(600)\n\n\n"
                         "def test_fine():\n    pass\n"})
    d = make_daemon(config(tmp_path, timeout_s=1.0))
    with d.client() as c:
        r = run(c, root, workers=1)
    by_id = {x["nodeid"]: x for x in r["results"]}
    assert by_id["check_hang.py::test_hangs"]["outcome"] == "failed"
    assert "timed out after 1 s" in by_id["check_hang.py::test_hangs"]["message"]
    assert by_id["check_hang.py::test_fine"]["outcome"] == "passed"


def worker_procs() -> list[psutil.Process]:
    out = []
    for p in psutil.process_iter(["cmdline"]):
        cmd = p.info["cmdline"] or []
        if "catalytic.plugins.testrun.pytest_worker" in cmd:
            out.append(p)
    return out


def parent(p: psutil.Process) -> int | None:
    """The parent pid, or None for a process that exited meanwhile."""
    try:
        return p.ppid()
    except psutil.NoSuchProcess:
        return None


def test_cancelling_a_run_stops_its_workers(make_daemon, tmp_path: Path) -> None:
    root = write_suite(tmp_path / "slow", {
        f"check_s{i}.py": "import time\n\n\ndef test_s():\n    time.sleep(60)\n"
        for i in range(4)})
    d = make_daemon(config(tmp_path))
    mine = {p.pid for p in worker_procs()}
    with d.client() as c, pytest.raises(DeadlineExceeded):
        run(c, root, timeout=4.0)  # the client cancels the call at its deadline
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        left = [p for p in worker_procs() if p.pid not in mine and parent(p) == d.pid]
        if not left:
            break
        time.sleep(0.1)
    assert not left
    runs: list[dict] = []
    with d.client() as c:  # the cancelled run is recorded after the call ends: wait for it
        while time.monotonic() < deadline + 10 and not runs:
            runs = c.call("testrun.history", {"root": str(root)})["runs"]
            time.sleep(0.1)
    assert runs and runs[0]["cancelled"]


MEMORY = {
    f"check_m{i}.py": f"""
import time


def test_big_{i}():
    block = b"x" * (120 << 20)  # touched, so it is resident
    time.sleep(0.4)
    assert block
""" for i in range(4)}


def overlaps(results: list[dict]) -> int:
    spans = [(r["start"], r["start"] + r["duration_s"]) for r in results]
    return max(sum(1 for s, e in spans if s <= t < e) for t, _ in spans)


def test_memory_budget_keeps_memory_heavy_tests_apart(make_daemon, tmp_path: Path) -> None:
    root = write_suite(tmp_path / "mem", MEMORY)
    d = make_daemon(config(tmp_path, memory_heavy_bytes="64MiB", memory_budget="200MiB"))
    with d.client() as c:
        cold = run(c, root)
        assert cold["passed"] == 4
        hist = c.call("testrun.history", {"root": str(root)})["tests"]
        assert all(t["kind"] == "memory" and t["rss_bytes"] >= 100 << 20 for t in hist)
        warm = run(c, root)
    assert warm["passed"] == 4
    assert overlaps(warm["results"]) == 1  # 2 x 120 MiB would exceed the 200 MiB budget


def test_failure_apart_rerun_in_collection_order_marks_order_dependence(
        make_daemon, tmp_path: Path) -> None:
    root = write_suite(tmp_path / "order", {
        "check_o.py": """
import time

STATE = {}


def test_a_sets():
    STATE["on"] = True
    time.sleep(0.5)


def test_b_needs():
    time.sleep(0.5)
    assert STATE.get("on")
""",
        "check_p.py": "import time\n\n\ndef test_p():\n    time.sleep(0.1)\n"})
    d = make_daemon(config(tmp_path))
    with d.client() as c:
        first = run(c, root)
        assert first["passed"] == 3 and first["order_dependent"] == []
        second = run(c, root)  # history lets the 1 s unit split across both workers
        assert second["passed"] == 3, second["results"]
        assert second["order_dependent"] == ["check_o.py::test_b_needs"]
        third = run(c, root)  # now known to depend on order: kept together
        assert third["passed"] == 3 and third["order_dependent"] == []
        order = next(ids for ids in third["order"].values() if "check_o.py::test_a_sets" in ids)
        assert order.index("check_o.py::test_b_needs") == order.index(
            "check_o.py::test_a_sets") + 1
