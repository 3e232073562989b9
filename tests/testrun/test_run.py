"""testrun over a real daemon: parity with serial pytest, history, plan, JUnit XML, errors."""

from __future__ import annotations

import os
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from suites import config, copy_sample, run_counts, serial_counts, write_suite

from catalytic.client.errors import Forbidden, RpcError


def run(c, root: Path, workers: int = 2, args: list[str] | None = None, **kw):
    return c.call("testrun.run", {"root": str(root), "python": sys.executable,
                                  "workers": workers, "args": args or [], **kw}, timeout=120)


def test_outcomes_equal_serial_pytest_and_history_tightens_the_schedule(make_daemon,
                                                                         tmp_path: Path) -> None:
    root = copy_sample(tmp_path)
    serial = serial_counts(root)
    d = make_daemon(config(tmp_path))
    with d.client() as c:
        first = run(c, root, junitxml="report.xml")
        assert run_counts(first) == serial
        assert {k: first[k] for k in ("passed", "failed", "skipped", "xfailed", "xpassed",
                                      "errors")} == {k: serial.get(k, 0) for k in (
            "passed", "failed", "skipped", "xfailed", "xpassed", "errors")}
        assert first["tests"] == sum(serial.values()) and first["exit_status"] == 1
        by_id = {r["nodeid"]: r for r in first["results"]}
        assert by_id["check_basic.py::test_fail"]["message"].startswith("assert")
        assert "fixture could not start" in by_id["check_basic.py::test_error_in_setup"][
            "longrepr"]
        # Megabytes printed by a failing test are cut to the configured bound.
        assert len(by_id["check_noisy.py::test_prints_a_lot"]["longrepr"]) < 70_000
        assert first["lower_bound_s"] <= first["makespan_s"]
        xml = ET.parse(root / "report.xml").getroot()
        assert len(xml.findall(".//testcase")) == first["tests"]
        assert len(xml.findall(".//failure")) == first["failed"]

        hist = c.call("testrun.history", {"root": str(root)})
        # The module skipped at collection counts in the run, not in the per-test history.
        assert len(hist["tests"]) == first["tests"] - 1 == 23 and hist["runs"][0]["tests"] == 24
        assert hist["tests"][0]["nodeid"] == "check_slow.py::test_long_last"
        plan = c.call("testrun.plan", {"root": str(root), "workers": 2}, timeout=60)
        assert plan["tests"] == 23 and plan["known"] == 23
        # With history, the long test no longer sits behind its module's others.
        assert any(w[0] == "check_slow.py::test_long_last" for w in plan["order"])
        assert plan["expected_makespan_s"] <= 1.3 * plan["lower_bound_s"]

        second = run(c, root)
        assert run_counts(second) == serial
        assert any(w[:1] == ["check_slow.py::test_long_last"] for w in second["order"].values())
        assert second["expected_makespan_s"] >= second["lower_bound_s"] * 0.5

        assert c.call("testrun.forget", {"root": str(root)})["forgotten"] == 23
        assert c.call("testrun.history", {"root": str(root)})["tests"] == []


def test_bad_roots_interpreters_and_suites(make_daemon, tmp_path: Path) -> None:
    good = write_suite(tmp_path / "good", {"check_a.py": "def test_a():\n    pass\n"})
    broken = write_suite(tmp_path / "broken", {"check_b.py": "def test_b(:\n"})
    empty = write_suite(tmp_path / "empty", {"check_c.py": "X = 1\n"})
    nopytest = tmp_path / "nopytest.sh"
    d = make_daemon(config(tmp_path, allowed_interpreters=[str(nopytest)]))
    with d.client() as c:
        with pytest.raises(Forbidden, match="allowed_roots"):
            c.call("testrun.run", {"root": str(Path(sys.prefix))})
        with pytest.raises(Forbidden, match="does not exist"):
            c.call("testrun.run", {"root": str(tmp_path / "missing")})
        nopytest.write_text("#!/bin/sh\nexec /usr/bin/env python3 -I -S \"$@\"\n")
        nopytest.chmod(0o755)
        with pytest.raises(RpcError, match="pip install pytest") as err:
            c.call("testrun.run", {"root": str(good), "python": str(nopytest)}, timeout=60)
        assert err.value.code == -33004
        with pytest.raises(RpcError, match=r"SyntaxError|invalid syntax") as err:
            run(c, broken)
        assert err.value.code == -33001
        none = run(c, empty)
        assert none["tests"] == 0 and none["exit_status"] == 5
        ok = run(c, good, workers=1)
        assert ok["passed"] == 1 and ok["exit_status"] == 0


def test_a_second_run_of_the_same_root_is_refused_when_configured(make_daemon,
                                                                  tmp_path: Path) -> None:
    root = write_suite(tmp_path / "s", {"check_s.py": "import time\n\n\ndef test_s():\n"
                                                      "    time.sleep(2)\n"})
    d = make_daemon(config(tmp_path, same_root="refuse"))
    box: dict[str, object] = {}

    def first() -> None:
        with d.client() as c1:
            box["r"] = run(c1, root, workers=1)

    t = threading.Thread(target=first)
    t.start()
    with d.client() as c:
        for _ in range(100):
            if c.call("system.stats").get("plugins", {}).get("testrun", {}).get(
                    "active_runs", 0) or box:
                break
            threading.Event().wait(0.05)
        with pytest.raises(RpcError) as err:
            run(c, root, workers=1)
        assert err.value.code == -33005
    t.join(30)
    assert box["r"]["passed"] == 1  # type: ignore[index]


def wait_standby(c, n: int = 1) -> None:
    for _ in range(200):
        if c.call("system.stats").get("plugins", {}).get("testrun", {}).get("warm_standby") == n:
            return
        threading.Event().wait(0.05)
    raise AssertionError("no warm workers were prepared")


def test_warm_workers_are_used_only_while_the_tree_is_unchanged(make_daemon,
                                                                tmp_path: Path) -> None:
    root = write_suite(tmp_path / "w", {"check_w.py": "def test_w():\n    assert True\n"})
    d = make_daemon(config(tmp_path))
    with d.client() as c:
        first = run(c, root)
        assert first["passed"] == 1 and not first["warm_workers"]
        wait_standby(c)
        second = run(c, root)
        assert second["passed"] == 1 and second["warm_workers"]
        wait_standby(c)
        test_file = root / "check_w.py"
        test_file.write_text("def test_w():\n    assert False\n")
        st = test_file.stat()
        os.utime(test_file, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
        third = run(c, root)  # the warm workers imported the old file: not used
        assert third["failed"] == 1 and not third["warm_workers"]
        other = run(c, root, args=["-k", "test_w"])  # other arguments: other workers
        assert other["failed"] == 1 and not other["warm_workers"]
