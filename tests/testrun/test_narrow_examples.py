"""Golden tests over `.py` example files that a conftest.py collector turns into tests
(pygments does this): a narrowed collection names their folder, never the files, which
pytest would import as test modules."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from projects import edit, failing, project, ran, run
from suites import config

COLLECTOR = '''\
from pathlib import Path

import pytest

from mylex import lex


class Golden(pytest.Item):
    def runtest(self):
        text = self.path.read_text()
        assert lex(text) == Path(str(self.path) + ".out").read_text()


class Example(pytest.File):
    def collect(self):
        yield Golden.from_parent(self, name="golden")


def pytest_collect_file(parent, file_path):
    if file_path.suffix == ".py" and file_path.name != "conftest.py":
        return Example.from_parent(parent, path=file_path)
'''
EXAMPLE = 'import not_a_module_anyone_has  # an example to lex, never to import\nx = 1\n'
FILES = {
    "mylex.py": "def lex(text):\n    return text.upper()\n",
    "examples/conftest.py": COLLECTOR,
    "examples/one.py": EXAMPLE,
    "examples/one.py.out": EXAMPLE.upper(),
    "examples/two.py": EXAMPLE.replace("x = 1", "y = 2"),
    "examples/two.py.out": EXAMPLE.replace("x = 1", "y = 2").upper(),
    "check_a.py": "def test_a():\n    assert 1 + 1 == 2\n",
    "check_b.py": "def test_b():\n    assert 'b'.upper() == 'B'\n",
    "check_c.py": "def test_c():\n    assert [] == []\n",
}
GOLDEN = {"examples/one.py::golden", "examples/two.py::golden"}


def test_example_files_are_collected_by_their_folder(make_daemon, tmp_path: Path) -> None:
    root = project(tmp_path / "lexers", FILES)
    d = make_daemon(config(tmp_path, record="background", keep_warm_s=0))
    with d.client() as c:
        def settled() -> dict[str, Any]:
            end = time.monotonic() + 120
            while time.monotonic() < end:
                st: dict[str, Any] = c.call("system.stats")["plugins"]["testrun"]
                if not st["recording"]:
                    return st
                time.sleep(0.2)
            raise AssertionError("the background recording did not finish")

        first = run(c, root)
        assert first["failed"] == first["errors"] == 0 and first["selected"] == 5
        settled()
        # a refactor: the golden tests run, from their folder, and pass
        edit(root / "mylex.py", "return text.upper()", "return str.upper(text)")
        r = run(c, root)
        assert r["collected_files"] == ["examples"]
        assert ran(r) == {t: "changed: mylex.py::lex" for t in GOLDEN}
        assert r["errors"] == r["failed"] == 0
        # their recording, narrowed the same way, succeeded: nothing is left to run
        settled()
        assert run(c, root)["selected"] == 0
        # a break: both goldens fail, and nothing else runs
        edit(root / "mylex.py", "return str.upper(text)", "return str.lower(text)")
        r = run(c, root)
        assert failing(r) == GOLDEN and r["collected_files"] == ["examples"]


def test_python_files_globs_are_read_from_each_kind_of_configuration(tmp_path: Path) -> None:
    from catalytic.plugins.testrun.config_files import python_files_patterns
    from catalytic.plugins.testrun.narrow import collect_paths

    def globs(name: str, text: str) -> list[str] | None:
        (tmp_path / name).write_text(text)
        return python_files_patterns(tmp_path / name)

    assert globs("pytest.ini", "[pytest]\n") == ["test_*.py", "*_test.py"]
    assert globs("tox.ini", "[pytest]\npython_files = check_*.py\n    spec_*.py\n") == [
        "check_*.py", "spec_*.py"]
    assert globs("setup.cfg", "[tool:pytest]\npython_files = t_*.py\n") == ["t_*.py"]
    assert globs("pyproject.toml", '[tool.pytest.ini_options]\npython_files = ["a_*.py"]\n'
                  ) == ["a_*.py"]
    assert globs("pyproject.toml", "[tool.pytest.ini_options\n") is None  # unreadable
    assert collect_paths(["ex/a.py", "ex/b.txt", "ex/sub/test_c.py", "t/test_d.py"],
                         ["test_*.py"]) == ["ex", "t/test_d.py"]
