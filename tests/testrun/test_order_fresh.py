"""A failure left by another test's state is re-run on a fresh worker and reported as
order-dependent, as a serial run (which passes it) would have it.

The reader comes first in collection order (a serial run passes), but our schedule runs the
longer mutator first on the same worker, so the reader fails there (rich's
test_box::test_get_row after test_table, in the replay benchmark). Re-run on the worker that
ran the mutator it would fail again; on a fresh worker it passes.
"""

from __future__ import annotations

from pathlib import Path

from projects import failing, project, run
from suites import config
from test_known_limits import BOX, serial_failing

READER = "check_a_reads.py::test_reads"
MUTATOR = "check_b_mutates.py::test_mutates"
ORDER = {
    "mylib/__init__.py": "",
    "mylib/box.py": BOX["mylib/box.py"],
    "check_a_reads.py": "from mylib import box\n\n\ndef test_reads():\n"
                        "    assert box.ASCII.chars[0] == '+'\n",
    "check_b_mutates.py": "import time\n\nfrom mylib import box\n\n\ndef test_mutates():\n"
                          "    time.sleep(0.3)\n    box.ASCII.chars = '#-|'\n",
}


def test_failure_after_another_modules_mutation_reruns_fresh(make_daemon,
                                                              tmp_path: Path) -> None:
    root = project(tmp_path / "order", ORDER)
    assert serial_failing(root) == set()
    d = make_daemon(config(tmp_path, record="inline"))
    with d.client() as c:
        alone = run(c, root, select="all", workers=1, args=["check_a_reads.py"])
        assert alone["passed"] == 1 and failing(alone) == set()  # the reader's history: passed
        run(c, root, select="all", workers=1, args=["check_b_mutates.py"])  # mutator's time
        r = run(c, root, select="all", workers=1)  # longest first: the mutator leads
        first_worker = next(ids for ids in r["order"].values() if MUTATOR in ids)
        assert first_worker == [MUTATOR, READER], r["order"]
        assert failing(r) == set(), r["results"]  # as the serial run: nothing fails
        assert r["order_dependent"] == [READER]
        reader = next(x for x in r["results"] if x["nodeid"] == READER)
        assert reader["outcome"] == "passed"
        assert f"fails only after {MUTATOR}" in reader["message"]
        assert "fresh worker" in reader["message"]
        # re-run on a worker of its own that ran nothing before it
        rerun_workers = [w for w, ids in r["order"].items() if ids == [READER]]
        assert rerun_workers and reader["worker"] in rerun_workers


def test_a_real_failure_stays_failed_after_the_fresh_rerun(make_daemon,
                                                           tmp_path: Path) -> None:
    root = project(tmp_path / "real", ORDER)
    d = make_daemon(config(tmp_path, record="inline"))
    with d.client() as c:
        alone = run(c, root, select="all", workers=1, args=["check_a_reads.py"])
        assert failing(alone) == set()  # last time it passed: a failure now is suspected
        (root / "check_a_reads.py").write_text(
            "def test_reads():\n    assert False, 'broken by an edit'\n")
        r = run(c, root, select="all", workers=1)
    assert failing(r) == {READER}
    assert r["order_dependent"] == []
    reader = next(x for x in r["results"] if x["nodeid"] == READER)
    assert "broken by an edit" in reader["message"]
