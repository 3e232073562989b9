"""The one worker supervisor (journal.py reads, supervisor.py decides) for local and shard runs.

First its policy on real journal files and a real process; then through a real
daemon, the same suite and the same assertions for a local run (workers that
pull tests) and a Dask shard run (a job on a real cluster): a test that hangs
past the timeout is killed and reported, a test that crashes its worker is
reported with the reason and the worker's output, and the other tests run.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
from dask_cluster import DaskCluster
from suites import config, write_suite

from catalytic.plugins.testrun.journal import JournalReader, parse
from catalytic.plugins.testrun.supervisor import WorkerWatch, kill_group

from daemon_process import DaemonProcess

ROUGH = {"check_rough.py": """
import os
import time


def test_before():
    pass


def test_crashes():
    os._exit(7)


def test_hangs():
    time.sleep(600)


def test_after():
    pass
"""}


def _line(ev: dict[str, Any]) -> bytes:
    return (json.dumps(ev) + "\n").encode()


def test_the_journal_reader_keeps_a_line_being_written_for_the_next_read(
        tmp_path: Path) -> None:
    complete = _line({"e": "start", "id": "a"}) + b"not json\n"
    events, used = parse(complete + b'{"e": "do')
    assert events == [{"e": "start", "id": "a"}] and used == len(complete)
    path = tmp_path / "w0.journal"
    reader = JournalReader(path)
    assert reader.read() == []  # the worker has not created it yet
    with open(path, "ab") as f:
        f.write(_line({"e": "start", "id": "t1"}) + b'{"e": "done", "id"')
    assert reader.read() == [{"e": "start", "id": "t1"}]
    with open(path, "ab") as f:
        f.write(b': "t1", "r": {"outcome": "passed"}}\n')
    assert reader.read() == [{"e": "done", "id": "t1", "r": {"outcome": "passed"}}]
    assert reader.read() == []


def test_the_policy_times_out_once_and_names_the_test_and_the_reason(tmp_path: Path) -> None:
    log = tmp_path / "w0.log"
    log.write_bytes(b"collected 3 items\nlast words\n")
    watch = WorkerWatch(JournalReader(tmp_path / "j"), log, timeout_s=2.0)
    done = watch.take([{"e": "start", "id": "m::a"},
                       {"e": "done", "id": "m::a", "r": {"nodeid": "m::a", "start": "1.5"}},
                       {"e": "start", "id": "m::b"}], now=100.0)
    assert done == [{"nodeid": "m::a", "start": 1.5}] and watch.current == ("m::b", 100.0)
    assert not watch.overdue(101.9)
    assert watch.overdue(102.1) and watch.timed_out == "m::b"
    assert not watch.overdue(103.0)  # asked to kill once
    hung = watch.crash_result("m::b", -9, "last words\n")
    assert hung["outcome"] == "failed" and hung["crashed"]
    assert hung["message"] == "timed out after 2 s (worker killed) while running this test"
    assert hung["longrepr"].endswith("--- worker output (tail) ---\nlast words\n")
    assert "SIGSEGV" in watch.crash_result("m::c", -11, "")["message"]
    assert "exited with status 3" in watch.crash_result("m::c", 3, "")["message"]
    assert watch.unfinished_after(["m::a", "m::b", "m::c", "m::d"], "m::b") == ["m::c", "m::d"]
    assert watch.unfinished_after(["m::b", "m::a"], "m::b") == []  # m::a finished


def test_a_worker_past_the_timeout_is_killed_with_what_it_started(tmp_path: Path) -> None:
    journal = tmp_path / "j"
    child = ("import json, os, subprocess, sys, time\n"
             f"open({str(journal)!r}, 'a').write(json.dumps({{'e': 'start', 'id': 'm::slow'}})"
             " + '\\n')\n"
             "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
             "time.sleep(600)\n")
    proc = subprocess.Popen([sys.executable, "-c", child], start_new_session=True)
    watch = WorkerWatch(JournalReader(journal), tmp_path / "log", timeout_s=0.3)
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        watch.poll()
        if watch.overdue(time.monotonic()):
            kill_group(proc.pid)
        time.sleep(0.05)
    assert proc.wait(timeout=10) == -9 and watch.timed_out == "m::slow"
    # the grandchild was in the worker's session: killed with it
    deadline = time.monotonic() + 30
    while _alive_in_session(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive_in_session(proc.pid)


def _alive_in_session(sid: int) -> list[int]:
    out = []
    for p in psutil.process_iter(["pid", "status"]):
        with contextlib.suppress(psutil.Error, OSError):
            if os.getsid(p.pid) == sid and p.info["status"] != psutil.STATUS_ZOMBIE:
                out.append(p.pid)
    return out


def _check_rough(result: dict[str, Any]) -> None:
    by_id = {r["nodeid"].split("::")[1]: r for r in result["results"]}
    assert by_id["test_before"]["outcome"] == by_id["test_after"]["outcome"] == "passed"
    crashed = by_id["test_crashes"]
    assert crashed["outcome"] == "failed" and crashed["crashed"]
    assert crashed["message"] == "worker exited with status 7 while running this test"
    assert "--- worker output (tail) ---" in crashed["longrepr"]
    hung = by_id["test_hangs"]
    assert hung["outcome"] == "failed" and hung["crashed"]
    assert hung["message"] == "timed out after 2 s (worker killed) while running this test"
    assert 1.5 < hung["duration_s"] < 60
    assert result["tests"] == 4 and result["failed"] == 2 and result["exit_status"] == 1


def _run(d: DaemonProcess, root: Path, **kw: Any) -> dict[str, Any]:
    with d.client() as c:
        result: dict[str, Any] = c.call("testrun.run", {"root": str(root), "workers": 1,
                                                        "python": sys.executable, **kw},
                                        timeout=240)
    return result


def test_local_workers_follow_the_policy(make_daemon: Any, tmp_path: Path) -> None:
    root = write_suite(tmp_path / "rough", ROUGH)
    d = make_daemon(config(tmp_path, timeout_s=2.0, keep_warm_s=0.0))
    got = _run(d, root)
    _check_rough(got)
    assert len(got["order"]) == 3  # the crashed and the killed worker were replaced


def test_a_dask_shard_follows_the_same_policy(make_daemon: Any, cluster: DaskCluster,
                                              tmp_path: Path) -> None:
    pytest.importorskip("distributed", reason="the dask extra is not installed")
    root = write_suite(tmp_path / "rough", ROUGH)
    cfg = config(tmp_path, timeout_s=2.0, keep_warm_s=0.0)
    cfg["daemon"] = {"plugins": ["testrun"], "executor": "dask",
                     "dask_address": cluster.address}
    got = _run(make_daemon(cfg), root, shards="dask")
    _check_rough(got)
    assert got["shards"] == 1 and got["shards_mode"] == "dask"
