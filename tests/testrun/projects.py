"""Helpers for the selection tests: copy the `affected` project, edit it, run it."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

AFFECTED = Path(__file__).resolve().parents[1] / "data" / "testrun" / "affected"


def copy_affected(dest: Path) -> Path:
    """A copy of the project with its `_conftest.py` files renamed to `conftest.py`."""
    root = dest / "affected"
    shutil.copytree(AFFECTED, root, ignore=shutil.ignore_patterns("__pycache__"))
    for stored in root.rglob("_conftest.py"):
        stored.rename(stored.with_name("conftest.py"))
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1))


def run(c: Any, root: Path, select: str = "affected", **kw: Any) -> dict[str, Any]:
    return c.call("testrun.run", {"root": str(root), "python": sys.executable, "workers": 2,
                                  "select": select, **kw}, timeout=180)


def ran(result: dict[str, Any]) -> dict[str, str]:
    """Node id (without the tests/ prefix) -> reason, for every test that ran."""
    return {r["nodeid"].removeprefix("tests/"): r.get("reason", "") for r in result["results"]}


def failing(result: dict[str, Any]) -> set[str]:
    return {r["nodeid"] for r in result["results"] if r["outcome"] in ("failed", "error")}


CHECK_INI = "[pytest]\npython_files = check_*.py\npythonpath = .\n"


def project(where: Path, files: dict[str, str]) -> Path:
    """A small project: `files` (paths relative to the root), tests named `check_*.py`."""
    where.mkdir(parents=True, exist_ok=True)
    (where / "pytest.ini").write_text(CHECK_INI)
    for name, text in files.items():
        (where / name).parent.mkdir(parents=True, exist_ok=True)
        (where / name).write_text(text)
    return where
