"""`select: "affected"` at the grain of classes, signatures and the module residue:
an edit of a class body selects the users of that class, not every importer of its file."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from projects import edit, failing, ran, run
from suites import config

GRANULAR = Path(__file__).resolve().parents[1] / "data" / "testrun" / "granular"
SHAPES = "gran/shapes.py"
ALL = {"check_box.py::test_kind", "check_box.py::test_area", "check_color.py::test_red",
       "check_point.py::test_point", "check_calls.py::test_scale",
       "check_module.py::test_limit", "check_module.py::test_green"}


def selected(c: Any, root: Path, old: str, new: str) -> dict[str, str]:
    """Apply an edit to gran/shapes.py, run the affected tests, undo the edit, and run
    again (the same tests, recorded against the original); the first run's selection."""
    edit(root / SHAPES, old, new)
    got = ran(run(c, root))
    edit(root / SHAPES, new, old)
    run(c, root)
    assert run(c, root)["selected"] == 0
    return got


def test_class_bodies_signatures_and_the_residue(make_daemon, tmp_path: Path) -> None:
    root = tmp_path / "granular"
    shutil.copytree(GRANULAR, root, ignore=shutil.ignore_patterns("__pycache__"))
    d = make_daemon(config(tmp_path, record="inline"))
    with d.client() as c:
        assert set(ran(run(c, root))) == ALL
        assert run(c, root)["selected"] == 0

        # a class attribute: the tests that use the class (here through its methods)
        edit(root / SHAPES, 'kind = "plain"', 'kind = "square"')
        r = run(c, root)
        assert ran(r) == {"check_box.py::test_kind": f"changed: {SHAPES}::<class Box>",
                          "check_box.py::test_area": f"changed: {SHAPES}::<class Box>"}
        assert failing(r) == {"tests/check_box.py::test_kind"}
        edit(root / SHAPES, 'kind = "square"', 'kind = "plain"')
        assert set(ran(run(c, root))) == {"check_box.py::test_kind", "check_box.py::test_area"}

        # a signature (a default): its callers
        assert selected(c, root, "factor=2", "factor=3") == {
            "check_calls.py::test_scale": f"changed: {SHAPES}::scale"}

        # a dataclass default, an Enum constant: no method of theirs has project source,
        # the tests naming the class are selected (by a test module's global, or an
        # attribute of a module the test names)
        assert selected(c, root, "x: int = 0", "x: int = 5") == {
            "check_point.py::test_point": f"changed: {SHAPES}::<class Point>"}
        assert selected(c, root, "GREEN = 2", "GREEN = 3") == {
            "check_color.py::test_red": f"changed: {SHAPES}::<class Color>",
            "check_module.py::test_green": f"changed: {SHAPES}::<class Color>"}

        # a new top-level class and function: nothing ran them
        edit(root / SHAPES, "def unused():", "class Extra:\n    n = 1\n\n\ndef extra():\n"
                                             "    return 2\n\n\ndef unused():")
        assert run(c, root)["selected"] == 0
        edit(root / SHAPES, "class Extra:\n    n = 1\n\n\ndef extra():\n    return 2\n\n\n",
             "")
        assert run(c, root)["selected"] == 0

        # a new test in a test file, nothing else edited: found (the file is collected)
        with (root / "tests/check_calls.py").open("a") as f:
            f.write("\n\ndef test_more():\n    assert scale(1) == 2\n")
        assert ran(run(c, root)) == {"check_calls.py::test_more": "new"}
        assert run(c, root)["selected"] == 0
        every = ALL | {"check_calls.py::test_more"}

        # the `__main__` block never runs on import
        edit(root / SHAPES, "print(scale(LIMIT))", "print(scale(LIMIT + 1))")
        assert run(c, root)["selected"] == 0

        # the residue (a module constant): every test importing the module
        got = selected(c, root, "LIMIT = 3", "LIMIT = 4")
        assert set(got) == every and set(got.values()) == {f"changed: {SHAPES}::<module>"}

        # a top-level name removed: every importer (an import of it would fail)
        got = selected(c, root, "def unused():\n    return 1\n", "")
        assert set(got) == every
        assert set(got.values()) == {f"changed: {SHAPES}::<names>"}


def test_future_import(make_daemon, tmp_path: Path) -> None:
    """`from __future__ import annotations` changes how every function and class of the
    file compiles: added, the tests that ran the file's code or named its classes run;
    removed (annotations evaluated again, at import), every importer does."""
    root = tmp_path / "granular"
    shutil.copytree(GRANULAR, root, ignore=shutil.ignore_patterns("__pycache__"))
    d = make_daemon(config(tmp_path, record="inline"))
    with d.client() as c:
        run(c, root)
        edit(root / SHAPES, "import dataclasses\n",
             "from __future__ import annotations\n\nimport dataclasses\n")
        got = ran(run(c, root))
        assert set(got) == ALL - {"check_module.py::test_limit"}
        assert all(v.startswith(f"changed: {SHAPES}::") for v in got.values())
        run(c, root, "all")  # every test recorded with the import
        edit(root / SHAPES, "from __future__ import annotations\n\n", "")
        got = ran(run(c, root))
        assert set(got) == ALL
        assert got["check_module.py::test_limit"] == f"changed: {SHAPES}::<names>"
