"""Per-document state in SQLite (WAL): the last decomposition and each task's status.

Only statuses someone set (or imported) are stored; a task's default is
`pending`, or `done` when the document ticks its checkbox. Statuses follow
their task across re-decompositions by stable ID, and a task whose ID changed
(its section moved or was renamed) is re-matched by its content hash.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import zlib
from pathlib import Path
from typing import Any

import msgpack

STATUSES = ("pending", "in-progress", "blocked", "done", "cancelled", "deferred")


class Store:
    def __init__(self, db: Path) -> None:
        self._lock = threading.RLock()
        self._db = sqlite3.connect(db, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("CREATE TABLE IF NOT EXISTS documents (name TEXT PRIMARY KEY, "
                         "text BLOB NOT NULL, tasks BLOB NOT NULL, meta BLOB NOT NULL, "
                         "updated REAL NOT NULL)")
        self._db.execute("CREATE TABLE IF NOT EXISTS status (document TEXT NOT NULL, "
                         "task TEXT NOT NULL, status TEXT NOT NULL, hash TEXT NOT NULL, "
                         "updated REAL NOT NULL, PRIMARY KEY (document, task))")

    def save_document(self, name: str, text: str, tasks: list[dict[str, Any]],
                      meta: dict[str, Any]) -> None:
        blob = zlib.compress(msgpack.packb(tasks, use_bin_type=True), 1)
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO documents VALUES (?, ?, ?, ?, ?)",
                             (name, zlib.compress(text.encode("utf-8", "surrogatepass"), 1),
                              blob, msgpack.packb(meta, use_bin_type=True), time.time()))

    def load_document(self, name: str) -> tuple[str, list[dict[str, Any]], dict[str, Any]] | None:
        with self._lock:
            row = self._db.execute("SELECT text, tasks, meta FROM documents WHERE name=?",
                                   (name,)).fetchone()
        if row is None:
            return None
        return (zlib.decompress(row[0]).decode("utf-8", "surrogatepass"),
                msgpack.unpackb(zlib.decompress(row[1]), raw=False),
                msgpack.unpackb(row[2], raw=False))

    def documents(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT name FROM documents ORDER BY name")]

    def saved_status(self, document: str) -> dict[str, tuple[str, str]]:
        with self._lock:
            rows = self._db.execute("SELECT task, status, hash FROM status WHERE document=?",
                                    (document,)).fetchall()
        return {r[0]: (r[1], r[2]) for r in rows}

    def set_status(self, document: str, items: list[tuple[str, str, str]]) -> None:
        """Durably set (task, status, content hash) rows in one transaction."""
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO status VALUES (?, ?, ?, ?, ?)",
                                 [(document, t, s, h, now) for t, s, h in items])
            self._db.execute("COMMIT")

    def move_status(self, document: str, moves: list[tuple[str, str]]) -> None:
        with self._lock:
            self._db.execute("BEGIN")
            for old, new in moves:
                self._db.execute("UPDATE OR REPLACE status SET task=? WHERE document=? AND task=?",
                                 (new, document, old))
            self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()


def carry(tasks: list[dict[str, Any]], saved: dict[str, tuple[str, str]]
          ) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Status of every task, and the (old id, new id) moves found by content hash."""
    present = {t["id"] for t in tasks}
    orphans: dict[str, list[str]] = {}
    for tid, (_, h) in saved.items():
        if tid not in present and h:
            orphans.setdefault(h, []).append(tid)
    status: dict[str, str] = {}
    moves: list[tuple[str, str]] = []
    for t in tasks:
        tid = t["id"]
        if tid in saved:
            status[tid] = saved[tid][0]
            continue
        cands = orphans.get(t["content_hash"])
        if cands and len(cands) == 1:
            old = cands.pop()
            status[tid] = saved[old][0]
            moves.append((old, tid))
            continue
        status[tid] = "done" if t.get("checked") else "pending"
    return status, moves
