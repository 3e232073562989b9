"""Collect only the test files an `affected` run can select, when that is safe.

Why: after a small edit a few tests run, yet every worker would import and collect the
whole suite first (seconds on a real project) just to learn node ids most of which are
deselected. Node ids name their file, so the files of the tests with a reason (and of
the tests that failed last time) are all that can be selected, as long as nothing new
can appear elsewhere: no Python file no record names (a new test file), no new
`conftest.py`, and no file added or removed anywhere under the root since the last full
collection (a new data file can add parametrized tests to an unchanged test file; tools'
dot-files aside).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from catalytic.plugins.testrun.history import TestStats
from catalytic.plugins.testrun.results import FAILING
from catalytic.plugins.testrun.selection import Verdicts

BROAD = ("environment", "config:")
"""Reasons that usually select most of a suite: collect it all."""


def narrow_files(verdict: Verdicts, stats: Mapping[str, TestStats], root: Path,
                 listing: frozenset[str], last_full: frozenset[str] | None,
                 max_share: float = 0.5) -> list[str] | None:
    """The test files to collect (relative to root), or None: collect everything."""
    if (last_full is None or listing != last_full or verdict.new_conftests
            or verdict.unknown_py or not verdict.recorded):
        return None
    if any(r.startswith(BROAD) for r in verdict.reasons.values()):
        return None
    wanted = set(verdict.reasons) | {t for t in verdict.recorded
                                     if (s := stats.get(t)) is not None
                                     and s.outcome in FAILING}
    files = {t.split("::")[0] for t in wanted}
    every = {t.split("::")[0] for t in verdict.recorded}
    if not files or len(files) > max_share * len(every):
        return None
    if any(not (root / f).is_file() for f in files):
        return None  # a test file gone or moved: let a full collection say so
    return sorted(files)
