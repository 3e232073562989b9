"""SQLite persistence of samples, spans and baselines (`monitor.sqlite`, opened with
`ctx.sqlite`, so WAL, the daemon's durability and a schema version).

Blocking calls meant to run in a thread (`asyncio.to_thread`); a lock keeps one
statement at a time on the shared connection.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from typing import Any

from catalytic.plugins.base import Migration, PluginContext
from catalytic.plugins.monitor.history import Sample

FILE = "monitor.sqlite"
MIGRATIONS: list[Migration] = [
    # 1: the tables of 0.1.0, which had no schema version (IF NOT EXISTS adopts them)
    """
    CREATE TABLE IF NOT EXISTS samples (ts REAL PRIMARY KEY, data TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS spans (ts REAL NOT NULL, name TEXT NOT NULL,
                                      seconds REAL NOT NULL);
    CREATE INDEX IF NOT EXISTS spans_name_ts ON spans (name, ts);
    CREATE TABLE IF NOT EXISTS baselines (
        name TEXT PRIMARY KEY, created REAL NOT NULL, summary TEXT NOT NULL);
    """,
]


class MonitorStore:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.lock = threading.Lock()
        self.db = db
        self.synchronous = int(db.execute("PRAGMA synchronous").fetchone()[0])

    @classmethod
    def open(cls, ctx: PluginContext) -> MonitorStore:
        """Open (and migrate) the plugin's store: blocking, run it in a thread."""
        return cls(ctx.sqlite(FILE, MIGRATIONS))

    def close(self) -> None:
        with self.lock:
            self.db.close()

    def append(self, samples: list[Sample]) -> None:
        rows = [(ts, json.dumps(values, separators=(",", ":"))) for ts, values in samples]
        with self.lock:
            self.db.executemany("INSERT OR REPLACE INTO samples VALUES (?, ?)", rows)

    def load(self, since: float = 0.0, limit: int = 100000) -> list[Sample]:
        """Samples after `since`, oldest first (the newest `limit` of them)."""
        with self.lock:
            rows = self.db.execute(
                "SELECT ts, data FROM samples WHERE ts > ? ORDER BY ts DESC LIMIT ?",
                (since, limit)).fetchall()
        return [(ts, json.loads(data)) for ts, data in reversed(rows)]

    def count_since(self, since: float) -> int:
        """How many stored samples are newer than `since` (what a load would read)."""
        with self.lock:
            return int(self.db.execute("SELECT count(*) FROM samples WHERE ts > ?",
                                       (since,)).fetchone()[0])

    def count(self) -> int:
        with self.lock:
            return int(self.db.execute("SELECT count(*) FROM samples").fetchone()[0])

    def prune(self, older_than: float) -> int:
        with self.lock:
            cur = self.db.execute("DELETE FROM samples WHERE ts < ?", (older_than,))
            return cur.rowcount

    def add_span(self, name: str, seconds: float) -> None:
        with self.lock:
            self.db.execute("INSERT INTO spans VALUES (?, ?, ?)", (time.time(), name, seconds))

    def load_spans(self, window: int) -> list[tuple[str, float]]:
        """The newest `window` durations of every span name, oldest first."""
        with self.lock:
            rows = self.db.execute(
                "SELECT name, seconds FROM (SELECT name, seconds, ts, row_number() OVER "
                "(PARTITION BY name ORDER BY ts DESC) AS r FROM spans) WHERE r <= ? "
                "ORDER BY ts", (window,)).fetchall()
        return [(r[0], r[1]) for r in rows]

    def prune_spans(self, keep: int) -> None:
        with self.lock:
            self.db.execute(
                "DELETE FROM spans WHERE rowid IN (SELECT rowid FROM (SELECT rowid, "
                "row_number() OVER (PARTITION BY name ORDER BY ts DESC) AS r FROM spans) "
                "WHERE r > ?)", (keep,))

    def save_baseline(self, name: str, summary: dict[str, Any]) -> float:
        """Durable on return: a full-sync commit for the one row a client was promised."""
        created = time.time()
        with self.lock:
            self.db.execute("PRAGMA synchronous=FULL")
            try:
                self.db.execute("INSERT OR REPLACE INTO baselines VALUES (?, ?, ?)",
                                (name, created, json.dumps(summary)))
            finally:
                self.db.execute(f"PRAGMA synchronous={self.synchronous:d}")
        return created

    def baseline(self, name: str) -> tuple[float, dict[str, Any]] | None:
        with self.lock:
            row = self.db.execute("SELECT created, summary FROM baselines WHERE name = ?",
                                  (name,)).fetchone()
        return (row[0], json.loads(row[1])) if row else None

    def baselines(self) -> list[tuple[str, float]]:
        with self.lock:
            return [(r[0], r[1]) for r in
                    self.db.execute("SELECT name, created FROM baselines ORDER BY name")]
