"""Collect only the test files an `affected` run can select, when that is safe.

Why: after a small edit a few tests run, yet every worker would import and collect the
whole suite first (seconds on a real project) just to learn node ids most of which are
deselected. Node ids name their file, so the files of the tests with a reason (and of
the tests that failed last time, and the test files with a top-level name no record saw:
a new test) are all that can be selected, as long as nothing new
can appear elsewhere: no Python file no record names changed since the last full
collection (it held no test then), no new `conftest.py`, and no file added or removed
anywhere under the root since the last full collection (a new data file can add
parametrized tests to an unchanged test file; tools' dot-files aside).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from catalytic.plugins.testrun.fingerprint import Snapshot, visible
from catalytic.plugins.testrun.history import TestStats
from catalytic.plugins.testrun.results import FAILING
from catalytic.plugins.testrun.selection import Verdicts

SECTIONS = {"pytest.ini": None, ".pytest.ini": None, "pyproject.toml": "[tool.pytest.ini_options]",
            "tox.ini": "[pytest]", "setup.cfg": "[tool:pytest]"}
"""pytest's configuration files in the order it looks for them, and the section that makes
a file count (None: any such file counts)."""
BROAD = ("environment", "config:")
"""Reasons that usually select most of a suite: collect it all."""


def full_run_config(root: Path) -> Path | None:
    """The configuration file a whole-suite run in `root` uses (None: not in the root).

    Passed with `-c` (and `--rootdir`) to a narrowed run: given file arguments, pytest
    would look for its configuration from their folder up (`tests/pytest.ini`), and both
    the node ids and the options could differ from a full run's."""
    for name, section in SECTIONS.items():
        path = root / name
        try:
            text = path.read_text(errors="replace") if path.is_file() else None
        except OSError:
            text = None
        if text is not None and (section is None or section in text):
            return path
    return None


def narrow_args(root: Path, files: list[str]) -> list[str] | None:
    """pytest arguments collecting only `files` as a full run would (None: cannot)."""
    config = full_run_config(root)
    if config is None:
        return None
    return ["--rootdir", str(root), "-c", str(config), *files]


def unknown_unchanged(verdict: Verdicts, now: Snapshot | None,
                      last_full: Snapshot | None) -> bool:
    """Whether no file was added or removed and no Python file no record names changed since
    the last full collection (which found no test in them)."""
    return (now is not None and last_full is not None and visible(now) == visible(last_full)
            and all(now.get(f) == last_full.get(f) for f in verdict.unknown_py))


def narrow_files(verdict: Verdicts, stats: Mapping[str, TestStats], root: Path,
                 now: Snapshot, last_full: Snapshot | None,
                 max_share: float = 0.5) -> list[str] | None:
    """The test files to collect (relative to root), or None: collect everything.

    `now` is the tree now, `last_full` as the last run that collected everything saw it."""
    # Python files no record names were collected then and held no test; one edited since
    # may hold one now
    if (not unknown_unchanged(verdict, now, last_full) or verdict.new_conftests
            or not verdict.recorded):
        return None
    if any(r.startswith(BROAD) for r in verdict.reasons.values()):
        return None
    wanted = set(verdict.reasons) | {t for t in verdict.recorded
                                     if (s := stats.get(t)) is not None
                                     and s.outcome in FAILING}
    files = {t.split("::")[0] for t in wanted} | set(verdict.new_names)
    every = {t.split("::")[0] for t in verdict.recorded}
    if not files or len(files) > max_share * len(every):
        return None
    if any(not (root / f).is_file() for f in files):
        return None  # a test file gone or moved: let a full collection say so
    return sorted(files)
