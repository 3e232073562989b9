"""Drop cached bytecode that may not match its source before workers import the project.

Why: Python (and pytest's assertion rewriting) trusts a `__pycache__/*.pyc` whose
header matches the source's whole-second mtime and size. An edit that keeps both
(a patch applied within the same second as the last import, a tool that restores
mtimes) makes workers run the old code. A file's ctime cannot be set back by
anyone but the kernel and moves on every write, so a `.pyc` written before its
source's last change (ctime >= the pyc's mtime) is deleted; the next import
compiles the source afresh.
"""

from __future__ import annotations

import os
from pathlib import Path

from catalytic.plugins.testrun.fingerprint import SKIP_DIRS


def source_of(pyc: Path) -> Path:
    """`pkg/__pycache__/mod.cpython-311(-pytest-8.3.2)(.opt-1).pyc` -> `pkg/mod.py`."""
    return pyc.parent.parent / (pyc.name.split(".", 1)[0] + ".py")


def stale_bytecode(root: Path) -> list[Path]:
    """The `.pyc` files under `root` written no later than their source's last change."""
    stale: list[Path] = []
    for here, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if (d == "__pycache__" or d not in SKIP_DIRS)
                   and not os.path.exists(os.path.join(here, d, "pyvenv.cfg"))]
        if os.path.basename(here) != "__pycache__":
            continue
        for name in files:
            if not name.endswith(".pyc"):
                continue
            pyc = Path(here) / name
            try:
                made = pyc.stat().st_mtime_ns
                changed = source_of(pyc).stat().st_ctime_ns
            except OSError:
                continue  # no source (or gone meanwhile): the import system ignores it
            if changed >= made:
                stale.append(pyc)
    return stale


def drop_stale_bytecode(root: Path) -> int:
    """Delete the stale `.pyc` files under `root`; how many were deleted."""
    n = 0
    for pyc in stale_bytecode(root):
        try:
            pyc.unlink()
            n += 1
        except OSError:
            pass  # deleted meanwhile, or not ours to delete: the import recompiles or warns
    return n
