"""State-dir helpers: private directories, atomic files, SQLite in WAL mode."""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from pathlib import Path
from typing import Any


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) with mode 0700; tighten it if it exists."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, *, durable: bool = True, mode: int = 0o600) -> None:
    """Write to a temporary name in the same directory, fsync, rename, fsync the directory."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    if durable:
        fsync_dir(path.parent)


def atomic_write_json(path: Path, value: Any, **kw: Any) -> None:
    atomic_write(path, json.dumps(value, indent=1, sort_keys=True).encode(), **kw)


def connect_sqlite(path: Path, *, synchronous: str = "NORMAL",
                   check_same_thread: bool = False) -> sqlite3.Connection:
    """A connection in WAL mode; `synchronous=FULL` makes each commit durable on power loss.

    With WAL and NORMAL, a commit survives a crash of the process (SIGKILL);
    FULL also survives an OS crash.
    """
    conn = sqlite3.connect(path, check_same_thread=check_same_thread, isolation_level=None,
                           timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn
