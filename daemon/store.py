"""State-dir helpers: private directories, atomic files, SQLite in WAL mode with schema
versions (what `PluginContext.sqlite` and `PluginContext.atomic_write` run)."""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from collections.abc import Callable, Sequence
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
    if synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
        raise ValueError(f"synchronous must be OFF, NORMAL, FULL or EXTRA, got {synchronous!r}")
    conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


Migration = str | Callable[[sqlite3.Connection], None]
"""One schema step: an SQL script, or a function given the connection (inside the
step's transaction; it must not commit)."""

SYNCHRONOUS = {"normal": "NORMAL", "full": "FULL"}
"""`daemon.durability` → SQLite's `PRAGMA synchronous`."""


class SchemaTooNew(RuntimeError):
    """A database carries a schema version newer than the code opening it knows."""


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, migrations: Sequence[Migration], where: Path | str) -> int:
    """Bring the database to `len(migrations)`, one transaction per step; return the version.

    `PRAGMA user_version` counts the steps applied. A newer version than the code knows
    raises `SchemaTooNew` naming the file and both versions. Each step re-reads the version
    under the write lock, so two processes opening the file at once apply a step only once.
    """
    known = len(migrations)
    version = schema_version(conn)
    if version > known:
        raise SchemaTooNew(f"{where} has schema version {version}, newer than the {known} this "
                           "version of catalytic knows (written by a newer release); upgrade "
                           "catalytic or move the file away")
    while version < known:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = schema_version(conn)
            if version >= known:
                conn.execute("COMMIT")
                break
            step = migrations[version]
            if callable(step):
                step(conn)
            else:
                for statement in _statements(step):
                    conn.execute(statement)
            version += 1
            conn.execute(f"PRAGMA user_version={version}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    return version


def _statements(script: str) -> list[str]:
    """Split an SQL script into complete statements (executescript would commit); a `;`
    inside a string or a trigger body does not end a statement."""
    out: list[str] = []
    pending = ""
    pieces = script.split(";")
    for i, piece in enumerate(pieces):
        pending += piece if i == len(pieces) - 1 else piece + ";"
        if pending.strip() and sqlite3.complete_statement(pending):
            out.append(pending)
            pending = ""
    if pending.strip():
        pending += "\n;"
        if not sqlite3.complete_statement(pending):
            raise ValueError(f"incomplete SQL statement in a migration: {pending.strip()[:80]!r}")
        out.append(pending)
    return out


def open_store(path: Path, migrations: Sequence[Migration], *, synchronous: str = "NORMAL"
               ) -> sqlite3.Connection:
    """`connect_sqlite` then `migrate`: the connection behind `PluginContext.sqlite`."""
    conn = connect_sqlite(path, synchronous=synchronous)
    try:
        migrate(conn, migrations, path)
    except BaseException:
        conn.close()
        raise
    return conn
