"""Warm workers survive an edit of files they did not read, and are replaced after an edit
of one they did."""

from __future__ import annotations

import time
from pathlib import Path

from projects import copy_affected, edit, failing, run
from suites import config

from catalytic.plugins.testrun.fingerprint import snapshot
from catalytic.plugins.testrun.standby_check import still_good


def warm(c) -> None:
    end = time.monotonic() + 90
    while c.call("system.stats")["plugins"]["testrun"]["warm_ready"] < 1:
        assert time.monotonic() < end, "no warm workers"
        time.sleep(0.1)


def test_which_changes_keep_warm_workers(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("A = 1\n")
    (tmp_path / "notes.md").write_text("x\n")
    (tmp_path / "data.txt").write_text("1\n")
    before = snapshot(tmp_path)
    assert still_good(before, snapshot(tmp_path), None)
    (tmp_path / "notes.md").write_text("y\n")
    assert still_good(before, snapshot(tmp_path), ["a.py"])
    assert not still_good(before, snapshot(tmp_path), None)  # reads unknown
    (tmp_path / "data.txt").write_text("2\n")
    assert not still_good(before, snapshot(tmp_path), ["a.py", "data.txt"])
    (tmp_path / "new.txt").write_text("")
    assert not still_good(before, snapshot(tmp_path), [])


def test_warm_workers_after_edits(make_daemon, tmp_path: Path) -> None:
    root = copy_affected(tmp_path)
    (root / "README.md").write_text("# affected\n")
    d = make_daemon(config(tmp_path, record="inline", keep_warm_s=120))
    with d.client() as c:
        assert run(c, root, select="all")["passed"] == 13
        warm(c)
        (root / "README.md").write_text("# affected, edited\n")
        r = run(c, root, select="all")
        assert r["warm_workers"] is True and r["passed"] == 13
        warm(c)
        # a data file tests read as they run, and a module only a test imports (lazily)
        (root / "mylib/data/greek.txt").write_text("alpha beta delta\n")
        edit(root / "mylib/lexers/animals.py", '("cat", "dog")', '("cat",)')
        r = run(c, root, select="all")
        assert r["warm_workers"] is True
        assert failing(r) == {"tests/check_data.py::test_greek",
                              "tests/check_lexers.py::test_animals"}
        warm(c)
        # a module the conftest imports while collecting: new workers
        edit(root / "mylib/arith.py", "return a + b", "return a + b + 0")
        r = run(c, root, select="all")
        assert r["warm_workers"] is False and r["failed"] == 2
