"""Per-test history in SQLite (WAL, through `ctx.sqlite`), keyed by (root, node id).

Why: the scheduler is only as good as its expected durations; keeping them across
runs (and across daemon restarts) is what turns a cold LPT guess into a packing
close to the lower bound.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from catalytic.plugins.testrun.depstore import FINGERPRINTS, DepStore

SCHEMA = """
CREATE TABLE IF NOT EXISTS tests (
    root TEXT NOT NULL,
    nodeid TEXT NOT NULL,
    ewma REAL NOT NULL,
    last REAL NOT NULL,
    runs INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    rss INTEGER NOT NULL,
    cpu REAL NOT NULL,
    io INTEGER NOT NULL,
    order_dependent INTEGER NOT NULL DEFAULT 0,
    updated REAL NOT NULL,
    PRIMARY KEY (root, nodeid)
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    root TEXT NOT NULL,
    finished REAL NOT NULL,
    summary TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_root ON runs(root, id);
"""

MIGRATIONS = (SCHEMA, FINGERPRINTS)
"""1: the tables of releases before schema versions (IF NOT EXISTS, so their databases are
accepted as they are); 2: the recorded dependencies per test (depstore.py)."""


@dataclass(frozen=True)
class TestStats:
    """What is remembered about one test."""

    __test__ = False  # not a pytest test class

    nodeid: str
    ewma: float
    """Exponentially weighted mean duration, seconds."""
    last: float
    runs: int
    outcome: str
    rss: int
    """Peak resident memory the test added above the worker's baseline, bytes."""
    cpu: float
    """CPU seconds (user + system) the test used."""
    io: int
    """Bytes read + written by the worker process during the test."""
    order_dependent: bool = False


@dataclass(frozen=True)
class Measured:
    """One test's result as measured by a worker."""

    nodeid: str
    outcome: str
    duration: float
    rss: int = 0
    cpu: float = 0.0
    io: int = 0


class History:
    """The history database; thread-safe (one connection behind a lock).

    `db` is the connection `ctx.sqlite("history.sqlite", MIGRATIONS)` opened (schema up to
    date, WAL, the daemon's durability); it is closed by `close()`.
    """

    def __init__(self, db: sqlite3.Connection, alpha: float = 0.5) -> None:
        if not 0 < alpha <= 1:
            raise ValueError(f"alpha must be in (0, 1], got {alpha}")
        self.alpha = alpha
        self._lock = threading.Lock()
        self._db = db
        self.deps = DepStore(self._db, self._lock)
        """The recorded dependencies per test (selection's fingerprints)."""

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def load(self, root: str) -> dict[str, TestStats]:
        """Every remembered test of `root`, by node id."""
        with self._lock:
            rows = self._db.execute(
                "SELECT nodeid, ewma, last, runs, outcome, rss, cpu, io, order_dependent "
                "FROM tests WHERE root = ?", (root,)).fetchall()
        return {r[0]: TestStats(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], bool(r[8]))
                for r in rows}

    def record(self, root: str, results: Iterable[Measured],
               order_dependent: Iterable[str] = ()) -> int:
        """Fold one run's measurements in (EWMA on duration, peak memory kept as max-decay)."""
        known = self.load(root)
        marked = set(order_dependent)
        now = time.time()
        rows = []
        for m in results:
            old = known.get(m.nodeid)
            if old is None:
                ewma, runs, rss, cpu, io, od = m.duration, 1, m.rss, m.cpu, m.io, False
            else:
                a = self.alpha
                ewma = a * m.duration + (1 - a) * old.ewma
                runs = old.runs + 1
                rss = max(m.rss, int(a * m.rss + (1 - a) * old.rss))
                cpu = a * m.cpu + (1 - a) * old.cpu
                io = int(a * m.io + (1 - a) * old.io)
                od = old.order_dependent
            od = od or m.nodeid in marked
            rows.append((root, m.nodeid, ewma, m.duration, runs, m.outcome, rss, cpu, io,
                         int(od), now))
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT OR REPLACE INTO tests (root, nodeid, ewma, last, runs, outcome, rss, "
                "cpu, io, order_dependent, updated) VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
            self._db.execute("COMMIT")
        return len(rows)

    def add_run(self, root: str, summary: Mapping[str, Any], keep: int = 20) -> None:
        """Remember a run's summary (the last `keep` per root)."""
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute("INSERT INTO runs (root, finished, summary) VALUES (?,?,?)",
                             (root, time.time(), json.dumps(summary)))
            self._db.execute(
                "DELETE FROM runs WHERE root = ? AND id NOT IN "
                "(SELECT id FROM runs WHERE root = ? ORDER BY id DESC LIMIT ?)",
                (root, root, keep))
            self._db.execute("COMMIT")

    def runs(self, root: str, limit: int = 20) -> list[dict[str, Any]]:
        """The most recent run summaries of `root`, newest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT finished, summary FROM runs WHERE root = ? ORDER BY id DESC LIMIT ?",
                (root, limit)).fetchall()
        out = []
        for finished, text in rows:
            item = json.loads(text)
            item["finished"] = finished
            out.append(item)
        return out

    def forget(self, root: str) -> int:
        """Drop everything remembered about `root`; return how many tests were forgotten."""
        with self._lock:
            self._db.execute("BEGIN")
            n = self._db.execute("DELETE FROM tests WHERE root = ?", (root,)).rowcount
            self._db.execute("DELETE FROM runs WHERE root = ?", (root,))
            self._db.execute("COMMIT")
        self.deps.forget(root)
        return int(n)

    def roots(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT DISTINCT root FROM tests")]

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM tests").fetchone()[0])
