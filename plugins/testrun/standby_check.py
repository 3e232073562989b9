"""Whether warm workers are still good after the tree changed under them.

Why: warm workers are started after each run so the next one skips the start-up,
imports and collection; but the next run usually follows an edit. They are stale only
if a file they read changed (a module they imported, a file opened while collecting,
pytest's configuration, a `conftest.py`) or a file was added or removed (a new test
file, or a new data file a parametrization lists; dot-files, where tools keep their
state, aside); an edit elsewhere (docs, a data file
tests read as they run, a module only tests import) leaves them good.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from catalytic.plugins.testrun.fingerprint import Stat, visible

ALWAYS_READ = ("pytest.ini", "pyproject.toml", "setup.cfg", "tox.ini", "conftest.py")
"""Files whose change always makes warm workers stale (configuration, fixtures)."""


def changed(before: Mapping[str, Stat], now: Mapping[str, Stat]) -> set[str]:
    """Paths added, removed or changed between two snapshots."""
    return {p for p in before.keys() | now.keys() if before.get(p) != now.get(p)}


def still_good(before: Mapping[str, Stat] | None, now: Mapping[str, Stat] | None,
               reads: Iterable[str] | None) -> bool:
    """Warm workers that started at `before` and read `reads` (None: unknown) are usable
    with the tree at `now`."""
    if before is None or now is None:
        return False
    if before == now:
        return True
    if reads is None or visible(before) != visible(now):
        return False  # a file added or removed (but a tool's dot-files)
    diff = changed(before, now)
    return not (diff & set(reads)) and not any(
        os.path.basename(p) in ALWAYS_READ or p.endswith((".pth", ".cfg", ".toml", ".ini"))
        for p in diff)
