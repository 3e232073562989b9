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

import fnmatch
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from catalytic.plugins.testrun.config_files import python_files_patterns
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


def narrow_args(root: Path, files: list[str]) -> tuple[list[str], list[str]] | None:
    """(pytest arguments collecting only `files` as a full run would, the paths among
    them), or None: cannot.

    A `.py` file that pytest's `python_files` globs do not match is given by its folder:
    named on the command line it would be imported as a test module, where a full run
    collects it only through a conftest.py collector (pygments' example files)."""
    config = full_run_config(root)
    patterns = python_files_patterns(config) if config is not None else None
    if config is None or patterns is None:
        return None
    paths = collect_paths(files, patterns)
    if "." in paths:
        return None  # the root itself: that is a full collection
    return ["--rootdir", str(root), "-c", str(config), *paths], paths


def collect_paths(files: list[str], patterns: list[str]) -> list[str]:
    """The files, each `.py` one that no pattern matches replaced by its folder; a file
    under a folder in the list is left out (the folder collects it)."""
    folders = sorted({str(PurePosixPath(f).parent) for f in files if f.endswith(".py")
                      and not any(fnmatch.fnmatch(PurePosixPath(f).name, p)
                                  for p in patterns)})
    kept = [f for f in files if not any(
        d == "." or f == d or f.startswith(d + "/") for d in folders)]
    return sorted({*folders, *kept})


def unknown_change(verdict: Verdicts, now: Snapshot | None,
                   last_full: Snapshot | None) -> str:
    """Why a file no record names may hold a test now ("" if none can): a file added or
    removed, or a Python file no record names changed, since the last full collection
    (which found no test in them)."""
    if last_full is None:
        return "no full collection of this tree yet"
    if now is None:
        return "too many files to compare"
    if visible(now) != visible(last_full):
        added = sorted(visible(now) - visible(last_full))
        gone = sorted(visible(last_full) - visible(now))
        return ("files added or removed since the last full collection: "
                + ", ".join([*added[:3], *gone[:3]]))
    changed = next((f for f in verdict.unknown_py if now.get(f) != last_full.get(f)), None)
    return f"{changed} (no test recorded against it) changed" if changed else ""


def unknown_unchanged(verdict: Verdicts, now: Snapshot | None,
                      last_full: Snapshot | None) -> bool:
    """Whether no file was added or removed and no Python file no record names changed since
    the last full collection."""
    return not unknown_change(verdict, now, last_full)


def record_args(root: Path, wanted: set[str], suite: set[str]) -> tuple[list[str],
                                                                        list[str]] | None:
    """`narrow_args` for a background recording of `wanted` (node ids): only when their
    files are at most half of the suite's (`suite`, node ids) and all still there."""
    files = sorted({t.split("::")[0] for t in wanted})
    every = {t.split("::")[0] for t in suite}
    if len(files) > len(every) / 2 or not all((root / f).exists() for f in files):
        return None
    return narrow_args(root, files)


def narrow_files(verdict: Verdicts, stats: Mapping[str, TestStats], root: Path,
                 now: Snapshot | None, last_full: Snapshot | None,
                 max_share: float = 0.5) -> tuple[list[str] | None, str]:
    """(the test files to collect, relative to root, or None: collect everything; why not).

    `now` is the tree now, `last_full` as the last run that collected everything saw it."""
    # Python files no record names were collected then and held no test; one edited since
    # may hold one now
    why = unknown_change(verdict, now, last_full)
    if why:
        return None, why
    if verdict.new_conftests:
        return None, f"a new conftest.py in {verdict.new_conftests[0] or '.'}"
    if not verdict.recorded:
        return None, "no test recorded"
    broad = next((r for r in verdict.reasons.values() if r.startswith(BROAD)), None)
    if broad is not None:
        return None, broad
    wanted = set(verdict.reasons) | {t for t in verdict.recorded
                                     if (s := stats.get(t)) is not None
                                     and s.outcome in FAILING}
    files = {t.split("::")[0] for t in wanted} | set(verdict.new_names)
    every = {t.split("::")[0] for t in verdict.recorded}
    if not files:
        return None, "no test file selected"
    if len(files) > max_share * len(every):
        return None, f"{len(files)} of {len(every)} test files selected"
    gone_file = next((f for f in sorted(files) if not (root / f).is_file()), None)
    if gone_file is not None:
        return None, f"{gone_file} is gone or moved"  # a full collection says so
    return sorted(files), ""
