"""Per-document state in SQLite: each task a row, the revision, and each task's status.

A document's tasks are kept one row each (with their position), so an edit
writes only the tasks it added, changed or removed, in one transaction: the
store never rewrites the whole answer. Only statuses someone set (or imported)
are stored; a task's default is `pending`, or `done` when the document ticks
its checkbox. Statuses follow their task across re-decompositions by stable
ID, and a task whose ID changed (its section moved or was renamed) is
re-matched by its content hash.

The schema is versioned (`PluginContext.sqlite`): version 1 is the 0.1.0
layout (the whole answer in one blob per document), version 2 splits every
stored document into task rows.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import msgpack

from catalytic.plugins.prd.breathe import point
from catalytic.plugins.prd.diff import Changes

STATUSES = ("pending", "in-progress", "blocked", "done", "cancelled", "deferred")

V1 = """
CREATE TABLE IF NOT EXISTS documents (name TEXT PRIMARY KEY, text BLOB NOT NULL,
    tasks BLOB NOT NULL, meta BLOB NOT NULL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS status (document TEXT NOT NULL, task TEXT NOT NULL,
    status TEXT NOT NULL, hash TEXT NOT NULL, updated REAL NOT NULL,
    PRIMARY KEY (document, task));
"""


def _v2_task_rows(db: sqlite3.Connection) -> None:
    """Task rows and revisions; documents stored whole by 0.1.0 are split into rows."""
    db.execute("CREATE TABLE revisions (name TEXT PRIMARY KEY, revision TEXT NOT NULL, "
               "meta BLOB NOT NULL, updated REAL NOT NULL)")
    db.execute("CREATE TABLE tasks (document TEXT NOT NULL, ord INTEGER NOT NULL, "
               "data BLOB NOT NULL)")
    db.execute("CREATE INDEX tasks_order ON tasks (document, ord)")
    for name, blob, meta, updated in db.execute(
            "SELECT name, tasks, meta, updated FROM documents").fetchall():
        tasks = msgpack.unpackb(zlib.decompress(blob), raw=False)
        db.executemany("INSERT INTO tasks VALUES (?, ?, ?)",
                       _rows(name, tasks))
        db.execute("INSERT INTO revisions VALUES (?, ?, ?, ?)", (name, "", meta, updated))
    db.execute("DROP TABLE documents")


MIGRATIONS: Sequence[Any] = (V1, _v2_task_rows)


def pack(task: dict[str, Any]) -> bytes:
    return msgpack.packb(task, use_bin_type=True)


class Store:
    """The documents database (opened by the caller with `MIGRATIONS` applied)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._lock = threading.RLock()
        self._db = db

    def write_changes(self, name: str, revision: str, meta: dict[str, Any],
                      changes: Changes) -> float:
        """One transaction: the rows `changes` names, and the revision; returns its time."""
        rows = [(pack(t), name, k) for k, t in changes.rows]
        with self._transaction() as db:
            if changes.in_place:
                db.executemany("UPDATE tasks SET data=? WHERE document=? AND ord=?", rows)
            else:
                db.execute("DELETE FROM tasks WHERE document=? AND ord>=? AND ord<?",
                           (name, changes.lo, changes.hi_old))
                if changes.shift_by:
                    db.execute("UPDATE tasks SET ord = ord + ? WHERE document=? AND ord >= ?",
                               (changes.shift_by, name, changes.hi_old))
                db.executemany("INSERT INTO tasks (data, document, ord) VALUES (?, ?, ?)", rows)
            return self._head(name, revision, meta)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN … COMMIT under the store's lock; ROLLBACK when the body raises."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _head(self, name: str, revision: str, meta: dict[str, Any]) -> float:
        now = time.time()
        self._db.execute("INSERT OR REPLACE INTO revisions VALUES (?, ?, ?, ?)",
                         (name, revision, msgpack.packb(meta, use_bin_type=True), now))
        return now

    def touch(self, name: str) -> float:
        """Date the stored revision now (its status changes have been sent)."""
        now = time.time()
        with self._lock:
            self._db.execute("UPDATE revisions SET updated=? WHERE name=?", (now, name))
        return now

    def replace_all(self, name: str, revision: str, meta: dict[str, Any],
                    tasks: list[dict[str, Any]]) -> float:
        """Rewrite a document's rows (first decomposition, or rows from before revisions)."""
        with self._transaction() as db:
            db.execute("DELETE FROM tasks WHERE document=?", (name,))
            db.executemany("INSERT INTO tasks VALUES (?, ?, ?)",
                           [(name, k, pack(t)) for k, t in enumerate(tasks)])
            return self._head(name, revision, meta)

    def load_document(self, name: str
                      ) -> tuple[str, float, list[dict[str, Any]], dict[str, Any]] | None:
        """(revision, its time, tasks in document order, meta), or None when nothing is
        stored."""
        with self._lock:
            head = self._db.execute("SELECT revision, meta, updated FROM revisions WHERE name=?",
                                    (name,)).fetchone()
            if head is None:
                return None
            rows = self._db.execute("SELECT data FROM tasks WHERE document=? ORDER BY ord",
                                    (name,)).fetchall()
        return (head[0], head[2], [msgpack.unpackb(r[0], raw=False) for r in rows],
                msgpack.unpackb(head[1], raw=False))

    def documents(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT name FROM revisions ORDER BY name")]

    def saved_status(self, document: str) -> dict[str, tuple[str, str]]:
        return {tid: (s, h) for tid, (s, h, _) in self.saved_status_times(document).items()}

    def saved_status_times(self, document: str) -> dict[str, tuple[str, str, float]]:
        """Task → (status, content hash, when it was set)."""
        with self._lock:
            rows = self._db.execute("SELECT task, status, hash, updated FROM status "
                                    "WHERE document=?", (document,)).fetchall()
        return {r[0]: (r[1], r[2], r[3]) for r in rows}

    def set_status(self, document: str, items: list[tuple[str, str, str]]) -> None:
        """Durably set (task, status, content hash) rows in one transaction."""
        now = time.time()
        with self._transaction() as db:
            db.executemany("INSERT OR REPLACE INTO status VALUES (?, ?, ?, ?, ?)",
                           [(document, t, s, h, now) for t, s, h in items])

    def move_status(self, document: str, moves: list[tuple[str, str]]) -> None:
        with self._transaction() as db:
            for old, new in moves:
                db.execute("UPDATE OR REPLACE status SET task=? WHERE document=? AND task=?",
                           (new, document, old))

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _rows(name: str, tasks: list[dict[str, Any]]) -> list[tuple[str, int, bytes]]:
    out = []
    for k, t in enumerate(tasks):
        point()
        out.append((name, k, pack(t)))
    return out


def default_status(task: dict[str, Any]) -> str:
    return "done" if task.get("checked") else "pending"


def carry(tasks: list[dict[str, Any]], saved: dict[str, tuple[str, str]],
          present: Any = None) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Status of each of `tasks`, and the (old id, new id) moves found by content hash.

    `present` (a container of every task ID in the document, default: the IDs of
    `tasks`) decides which saved statuses are orphans that a task may take over.
    """
    if present is None:
        present = {t["id"] for t in tasks}
    orphans: dict[str, list[str]] = {}
    for tid, (_, h) in saved.items():
        if tid not in present and h:
            orphans.setdefault(h, []).append(tid)
    status: dict[str, str] = {}
    moves: list[tuple[str, str]] = []
    for t in tasks:
        point()
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
        status[tid] = default_status(t)
    return status, moves
