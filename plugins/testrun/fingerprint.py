"""A cheap fingerprint of a project tree, to know whether warm workers are still valid.

Why: standby workers import the project and collect its tests ahead of the next
run; any file that changed since (source, conftest, data a collector reads)
makes that collection stale, so they are used only when the tree is unchanged.
A file's ctime and inode are part of it: an edit that keeps size and mtime (a tool
that restores mtimes) still moves the ctime, which nobody can set back.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

SKIP_DIRS = {"__pycache__", "node_modules", ".git", ".hg", ".tox", ".nox", ".venv", "venv",
             ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis", "build", "dist"}


def fingerprint(root: Path, limit: int = 200_000) -> str:
    """Hash of (path, size, mtime, ctime, inode) of every file under `root`, skipping caches
    and venvs."""
    h = hashlib.blake2b(digest_size=16)
    count = 0
    for here, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS
                         and not (Path(here) / d / "pyvenv.cfg").exists())
        for name in sorted(files):
            try:
                st = os.stat(os.path.join(here, name))
            except OSError:
                continue
            h.update(f"{here}/{name}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0"
                     f"{st.st_ino}\n".encode())
            count += 1
            if count >= limit:
                return "too-large"
    return h.hexdigest()
