"""Recorded dependencies per test (the fingerprints), in the testrun history database.

Why these tables: a block (file, name, checksum) is stored once and gets an id;
a test keeps the ids of the blocks it depended on when it last ran, so a test
that did not run since keeps its fingerprint and is compared against what it
ran then. `fp_files` caches each file's content hash and block checksums, so
selection re-parses only files whose bytes changed.
"""

from __future__ import annotations

import array
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping, Sequence

FINGERPRINTS = """
CREATE TABLE IF NOT EXISTS fp_blocks (
    id INTEGER PRIMARY KEY,
    root TEXT NOT NULL,
    file TEXT NOT NULL,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    UNIQUE (root, file, name, checksum)
);
CREATE TABLE IF NOT EXISTS fp_tests (
    root TEXT NOT NULL,
    nodeid TEXT NOT NULL,
    env TEXT NOT NULL,
    blocks BLOB NOT NULL,
    recorded REAL NOT NULL,
    PRIMARY KEY (root, nodeid)
);
CREATE TABLE IF NOT EXISTS fp_files (
    root TEXT NOT NULL,
    file TEXT NOT NULL,
    hash TEXT NOT NULL,
    blocks TEXT NOT NULL,
    PRIMARY KEY (root, file)
);
"""
"""Migration 2 of the history database (see history.MIGRATIONS)."""

Block = tuple[str, str, str]
"""(file relative to the root, block name, checksum)."""


class DepStore:
    """Fingerprints of one history database (shares its connection and lock)."""

    def __init__(self, db: sqlite3.Connection, lock: threading.Lock) -> None:
        self._db, self._lock = db, lock

    def record(self, root: str, env: str, deps: Mapping[str, Sequence[Block]]) -> int:
        """Replace the fingerprints of the tests in `deps` (others keep theirs)."""
        if not deps:
            return 0
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN")
            try:
                ids: dict[Block, int] = {}
                wanted = {b for blocks in deps.values() for b in blocks}
                self._db.executemany(
                    "INSERT OR IGNORE INTO fp_blocks (root, file, name, checksum) "
                    "VALUES (?,?,?,?)", [(root, *b) for b in wanted])
                for i, f, n, c in self._db.execute(
                        "SELECT id, file, name, checksum FROM fp_blocks WHERE root = ?",
                        (root,)):
                    if (f, n, c) in wanted:
                        ids[(f, n, c)] = i
                rows = [(root, nid, env, array.array("q", sorted(ids[b] for b in set(blocks)))
                         .tobytes(), now) for nid, blocks in deps.items()]
                self._db.executemany(
                    "INSERT OR REPLACE INTO fp_tests (root, nodeid, env, blocks, recorded) "
                    "VALUES (?,?,?,?,?)", rows)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return len(deps)

    def tests(self, root: str) -> dict[str, tuple[str, array.array[int]]]:
        """nodeid -> (environment, block ids) for every recorded test of `root`."""
        with self._lock:
            rows = self._db.execute("SELECT nodeid, env, blocks FROM fp_tests WHERE root = ?",
                                    (root,)).fetchall()
        out = {}
        for nid, env, blob in rows:
            arr = array.array("q")
            arr.frombytes(blob)
            out[nid] = (env, arr)
        return out

    def blocks(self, root: str) -> dict[int, Block]:
        with self._lock:
            return {i: (f, n, c) for i, f, n, c in self._db.execute(
                "SELECT id, file, name, checksum FROM fp_blocks WHERE root = ?", (root,))}

    def file_cache(self, root: str) -> dict[str, tuple[str, dict[str, str]]]:
        """file -> (content hash, block checksums) as last parsed."""
        with self._lock:
            rows = self._db.execute("SELECT file, hash, blocks FROM fp_files WHERE root = ?",
                                    (root,)).fetchall()
        return {f: (h, json.loads(b)) for f, h, b in rows}

    def cache_files(self, root: str, items: Iterable[tuple[str, str, dict[str, str]]]) -> None:
        rows = [(root, f, h, json.dumps(b)) for f, h, b in items]
        if not rows:
            return
        with self._lock:
            self._db.executemany("INSERT OR REPLACE INTO fp_files (root, file, hash, blocks) "
                                 "VALUES (?,?,?,?)", rows)

    def drop(self, root: str, nodeids: Iterable[str]) -> None:
        """Forget the fingerprints of these tests (e.g. their test file was deleted)."""
        with self._lock:
            self._db.executemany("DELETE FROM fp_tests WHERE root = ? AND nodeid = ?",
                                 [(root, n) for n in nodeids])

    def forget(self, root: str) -> None:
        with self._lock:
            self._db.execute("BEGIN")
            for table in ("fp_blocks", "fp_tests", "fp_files"):
                self._db.execute(f"DELETE FROM {table} WHERE root = ?", (root,))
            self._db.execute("COMMIT")

    def count(self, root: str) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM fp_tests WHERE root = ?",
                                        (root,)).fetchone()[0])
