"""History persistence and estimates for unseen tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalytic.daemon.store import open_store
from catalytic.plugins.testrun.estimate import CPU, IO, MEMORY, classify, estimate
from catalytic.plugins.testrun.history import MIGRATIONS, History, Measured, TestStats


def test_history_persists_across_reopen_with_ewma(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite"
    h = History(open_store(db, MIGRATIONS), alpha=0.5)
    h.record("/r", [Measured("a.py::t", "passed", 2.0, rss=10, cpu=1.5, io=100)])
    h.record("/r", [Measured("a.py::t", "failed", 4.0, rss=30, cpu=0.5, io=300)],
             order_dependent=["a.py::t"])
    h.record("/other", [Measured("a.py::t", "passed", 9.0)])
    h.add_run("/r", {"makespan_s": 3.0})
    h.close()
    h2 = History(open_store(db, MIGRATIONS))
    s = h2.load("/r")["a.py::t"]
    assert s.ewma == pytest.approx(3.0) and s.last == 4.0 and s.runs == 2
    assert s.outcome == "failed" and s.order_dependent and s.rss == 30
    assert s.cpu == pytest.approx(1.0) and s.io == 200
    assert h2.load("/other")["a.py::t"].ewma == 9.0
    assert h2.runs("/r")[0]["makespan_s"] == 3.0
    assert (tmp_path / "h.sqlite-wal").exists() or h2._db.execute(
        "PRAGMA journal_mode").fetchone()[0] == "wal"
    assert h2.forget("/r") == 1
    assert h2.load("/r") == {} and h2.runs("/r") == [] and "/other" in h2.roots()


def test_unseen_tests_estimated_from_siblings_class_file_then_median() -> None:
    hist = {
        "a.py::T::t1": TestStats("a.py::T::t1", 4.0, 4.0, 1, "passed", 0, 4.0, 0),
        "a.py::f[1]": TestStats("a.py::f[1]", 2.0, 2.0, 1, "passed", 0, 2.0, 0),
        "a.py::g": TestStats("a.py::g", 1.0, 1.0, 1, "passed", 0, 1.0, 0),
        "b.py::h": TestStats("b.py::h", 0.5, 0.5, 1, "passed", 0, 0.5, 0),
    }
    ex = estimate(["a.py::T::t1", "a.py::T::t9", "a.py::f[2]", "a.py::new", "a.py::U::new",
                   "c.py::x"], hist)
    assert ex["a.py::T::t1"].known and ex["a.py::T::t1"].duration == 4.0
    assert ex["a.py::T::t9"].duration == 4.0 and not ex["a.py::T::t9"].known  # its class
    assert ex["a.py::f[2]"].duration == 2.0  # its parametrized sibling
    assert ex["a.py::new"].duration == 1.5  # module-level tests of its file: 2, 1
    assert ex["a.py::U::new"].duration == 2.0  # unseen class: its file, median of 4, 2, 1
    assert ex["c.py::x"].duration == 1.5  # the suite median


def test_resource_classes_from_measurements() -> None:
    def stats(ewma: float, cpu: float, rss: int) -> TestStats:
        return TestStats("x", ewma, ewma, 1, "passed", rss, cpu, 0)

    assert classify(stats(1.0, 0.9, 0), 1 << 30) == CPU
    assert classify(stats(1.0, 0.05, 0), 1 << 30) == IO  # sleeping / waiting on I/O
    assert classify(stats(1.0, 0.9, 2 << 30), 1 << 30) == MEMORY
