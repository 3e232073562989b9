"""A cheap snapshot of a project tree, to know whether warm workers and recordings are
still valid.

Why: standby workers import the project and collect its tests ahead of the next
run, and recordings name file contents; a file that changed since (source, conftest,
data a collector reads) can make either stale. Each file's size, mtime, ctime and
inode are taken: an edit that keeps size and mtime (a tool that restores mtimes)
still moves the ctime, which nobody can set back.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

SKIP_DIRS = {"__pycache__", "node_modules", ".git", ".hg", ".tox", ".nox", ".venv", "venv",
             ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis", "build", "dist"}

Stat = tuple[int, int, int, int]
Snapshot = dict[str, Stat]


def snapshot(root: Path, limit: int = 200_000) -> Snapshot | None:
    """(size, mtime, ctime, inode) of every file under `root` by relative path, caches and
    virtualenvs skipped; None when there are more than `limit` files."""
    out: Snapshot = {}
    for here, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS
                   and not os.path.exists(os.path.join(here, d, "pyvenv.cfg"))]
        rel = os.path.relpath(here, root)
        for name in files:
            try:
                st = os.stat(os.path.join(here, name))
            except OSError:
                continue
            out[name if rel == "." else os.path.join(rel, name)] = (
                st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
            if len(out) > limit:
                return None
    return out


def visible(paths: Iterable[str]) -> frozenset[str]:
    """The paths with no hidden part: tools keep their state in dot-files and dot-folders
    (`.testmondata`, `.coverage`) that come and go between runs and hold no tests."""
    return frozenset(p for p in paths if not any(part.startswith(".")
                                                 for part in p.split(os.sep)))


def digest_of(snap: Snapshot | None) -> str:
    """A short hash of a snapshot ("too-large" for None)."""
    if snap is None:
        return "too-large"
    h = hashlib.blake2b(digest_size=16)
    for path in sorted(snap):
        h.update(f"{path}\0{snap[path]}\n".encode())
    return h.hexdigest()


def fingerprint(root: Path, limit: int = 200_000) -> str:
    """The digest of `snapshot(root)`."""
    return digest_of(snapshot(root, limit))
