"""`select = "affected"` on bad input: each a clear answer, nothing remembered corrupted, and
a correct next run (collection errors after an edit, renamed modules and history databases
from an older release are in test_select.py)."""

from __future__ import annotations

from pathlib import Path

from projects import copy_affected, failing, ran, run
from suites import config, write_suite

ALL = 13
"""Tests in the `affected` project."""


def test_a_root_that_is_not_a_pytest_project(make_daemon, tmp_path: Path) -> None:
    root = tmp_path / "notes"
    root.mkdir()
    (root / "README.md").write_text("# just notes\n")
    (root / "tool.py").write_text("print('no tests here')\n")
    (root / "pytest.ini").write_text("[pytest]\n")  # (else pytest walks up for a rootdir)
    d = make_daemon(config(tmp_path, record="inline"))
    with d.client() as c:
        for _ in range(2):
            r = run(c, root)
            assert r["exit_status"] == 5 and r["tests"] == 0
            assert r["selected"] == 0 and r["results"] == []


def test_a_deleted_test_file_and_its_return(make_daemon, tmp_path: Path) -> None:
    root = copy_affected(tmp_path)
    d = make_daemon(config(tmp_path, record="inline"))
    with d.client() as c:
        run(c, root)
        kept = (root / "tests/check_data.py").read_text()
        (root / "tests/check_data.py").unlink()
        r = run(c, root)
        assert r["selected"] == 0 and r["deselected"] == ALL - 3 and r["exit_status"] == 0
        assert run(c, root)["selected"] == 0
        (root / "tests/check_data.py").write_text(kept)
        r = run(c, root)  # its records were dropped with it: it is recorded afresh
        assert ran(r) == {"check_data.py::test_greek": "unrecorded",
                          "check_data.py::test_blob": "unrecorded",
                          "check_data.py::test_nothing_read": "unrecorded"}
        assert r["passed"] == 3
        assert run(c, root)["selected"] == 0


def test_a_python_module_replaced_by_binary_bytes(make_daemon, tmp_path: Path) -> None:
    root = copy_affected(tmp_path)
    module = root / "mylib/lexers/animals.py"
    d = make_daemon(config(tmp_path, record="inline"))
    with d.client() as c:
        run(c, root)
        source = module.read_bytes()
        module.write_bytes(b"\x00\xff\xfe binary \x89PNG\r\n\x1a\n")
        r = run(c, root)
        assert ran(r)["check_lexers.py::test_animals"].startswith(  # every block is gone
            "changed: mylib/lexers/animals.py::")
        assert "check_lexers.py::test_animals" in {k.removeprefix("tests/")
                                                   for k in failing(r)}
        assert "null bytes" in str(r["results"][0].get("longrepr", "")) or any(
            "null bytes" in str(x.get("longrepr", "")) for x in r["results"])
        module.write_bytes(source)
        r = run(c, root)
        assert "check_lexers.py::test_animals" in ran(r) and r["failed"] == 0
        assert run(c, root)["selected"] == 0


LATER = "def value():\n    return 1\n"
EDITS = """\
import importlib
from pathlib import Path


def test_edits_a_module_it_already_imported():
    later = importlib.import_module("mylib." + "later")  # imported by conftest.py already
    path = Path(later.__file__)
    path.write_text(path.read_text().replace("return 1", "return 2"))
    assert later.value() == 1  # the code imported before the edit


def test_other():
    pass
"""


def test_a_file_changed_during_the_run_leaves_no_record_of_its_new_content(
        make_daemon, tmp_path: Path) -> None:
    root = write_suite(tmp_path / "moving", {"check_edits.py": EDITS,
                                              "conftest.py": "import mylib.later  # noqa\n"})
    (root / "pytest.ini").write_text("[pytest]\npython_files = check_*.py\npythonpath = .\n")
    (root / "mylib").mkdir()
    (root / "mylib/__init__.py").write_text("")
    (root / "mylib/later.py").write_text(LATER)
    d = make_daemon(config(tmp_path, record="inline"))
    with d.client() as c:
        first = run(c, root)
        assert first["passed"] == 2  # the test ran the old code, then the file changed
        # a full run now fails it (it imports the new code): so must the next affected run
        r = run(c, root)
        assert failing(r) == {"check_edits.py::test_edits_a_module_it_already_imported"}
        assert ran(r)["check_edits.py::test_edits_a_module_it_already_imported"] == "unrecorded"
        # it edits the file under every run: no record is kept, both run every time
        (root / "mylib/later.py").write_text(LATER)
        r = run(c, root)
        assert r["passed"] == 2 and set(ran(r).values()) == {"unrecorded"}
