"""An `affected` run collects only the test files it can select, when nothing new can
appear elsewhere; otherwise it collects the whole suite."""

from __future__ import annotations

from pathlib import Path

from projects import copy_affected, edit, failing, ran, run
from suites import config

ALL = 13
CASES = """\
import os

import pytest


@pytest.mark.parametrize("name", sorted(os.listdir(os.path.join(os.path.dirname(__file__),
                                                                "cases"))))
def test_case(name):
    assert name.endswith(".txt")
"""


def test_only_the_selected_files_are_collected(make_daemon, tmp_path: Path) -> None:
    root = copy_affected(tmp_path)
    (root / "tests/cases").mkdir()
    (root / "tests/cases/one.txt").write_text("1\n")
    (root / "tests/check_cases.py").write_text(CASES)
    (root / "tests/check_helpers.py").write_text("VALUE = 1\n")  # collected, no test in it
    # a configuration file nearer the tests than the root's, which a full run ignores
    (root / "tests/pytest.ini").write_text("[pytest]\npython_files = other_*.py\n")
    d = make_daemon(config(tmp_path, record="inline", keep_warm_s=0))
    with d.client() as c:
        first = run(c, root)
        assert first["collected_files"] is None and first["selected"] == ALL + 1
        assert first["collected_all_because"] == "no full collection of this tree yet"
        edit(root / "mylib/arith.py", "return a - b", "return a - b - 1")
        (root / ".toolstate").write_text("a tool's dot-file: no tests in it\n")
        r = run(c, root)
        assert r["collected_files"] == ["tests/check_arith.py"]
        assert ran(r) == {"check_arith.py::test_sub": "changed: mylib/arith.py::sub"}
        assert failing(r) == {"tests/check_arith.py::test_sub"}
        assert r["deselected"] == ALL
        # failed last time: its file is collected again, alone
        edit(root / "mylib/arith.py", "return a - b - 1", "return a - b")
        r = run(c, root)
        assert r["collected_files"] == ["tests/check_arith.py"] and r["failed"] == 0
        # a new file (here a parametrized case) anywhere: the whole suite is collected
        (root / "tests/cases/two.txt").write_text("2\n")
        edit(root / "mylib/arith.py", "return a + b", "return b + a")
        r = run(c, root)
        assert r["collected_files"] is None
        assert r["collected_all_because"] == ("files added or removed since the last full "
                                              "collection: tests/cases/two.txt")
        assert ran(r) == {"check_cases.py::test_case[two.txt]": "new",
                          "check_arith.py::test_add": "changed: mylib/arith.py::add"}
        # a new test in an edited test file is found in that file
        with (root / "tests/check_data.py").open("a") as f:
            f.write("\n\ndef test_added():\n    pass\n")
        r = run(c, root)
        # (its other tests are not: a new top-level name changes no block they ran)
        assert r["collected_files"] == ["tests/check_data.py"]
        assert ran(r) == {"check_data.py::test_added": "new"}
        assert run(c, root)["selected"] == 0  # recorded: the file is not collected again
        # a file with no test before gets one: collected in full
        (root / "tests/check_helpers.py").write_text("VALUE = 1\n\n\ndef test_value():\n"
                                                     "    assert VALUE == 1\n")
        r = run(c, root)
        assert r["collected_files"] is None and ran(r) == {"check_helpers.py::test_value": "new"}
        # a new test file: collected in full
        (root / "tests/check_new.py").write_text("def test_fresh():\n    pass\n")
        r = run(c, root)
        assert r["collected_files"] is None and ran(r) == {"check_new.py::test_fresh": "new"}
        assert run(c, root)["selected"] == 0
