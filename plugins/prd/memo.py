"""The section memo: an LRU bounded by bytes in memory, backed by SQLite (WAL) on disk.

Keys are Merkle / cutoff keys (BLAKE2b digests); values are `SectionResult`s
packed with msgpack. A miss in memory reads through to SQLite, so a restarted
daemon is warm without loading everything up front. New entries are written
in one transaction by `flush()` after each decomposition.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import msgpack

from catalytic.plugins.prd.model import Local, SectionResult, Summary

MIGRATIONS: Sequence[Any] = (
    "CREATE TABLE IF NOT EXISTS memo (key BLOB PRIMARY KEY, value BLOB NOT NULL, "
    "used REAL NOT NULL)",
)
"""Schema versions of memo.sqlite (version 1 is the 0.1.0 table)."""
ENTRY_OVERHEAD = 200
"""Bytes counted per entry on top of its packed size (key, dict slot, objects)."""


def pack(result: SectionResult) -> bytes:
    return msgpack.packb(result, use_bin_type=True)


def unpack(data: bytes) -> SectionResult:
    tasks, summary, child_deps = msgpack.unpackb(data, raw=False)
    out = []
    for t in tasks:
        t[4] = tuple(t[4])
        for k in (8, 9, 10, 11, 12):
            t[k] = tuple(t[k])
        out.append(Local(*t))
    s = Summary(*summary)
    s = s._replace(criteria=tuple(s.criteria))
    return SectionResult(tuple(out), s, tuple(tuple(p) for p in child_deps))


class Memo:
    """Thread-safe byte-bounded LRU with read-through SQLite persistence."""

    def __init__(self, db: sqlite3.Connection | None, max_bytes: int,
                 disk_max_bytes: int = 0) -> None:
        """`db`: memo.sqlite opened with `MIGRATIONS` applied, or None for memory only."""
        self.max_bytes = max_bytes
        self.disk_max_bytes = disk_max_bytes
        self._lru: OrderedDict[bytes, tuple[SectionResult, int]] = OrderedDict()
        self._pending: dict[bytes, bytes] = {}
        self.bytes = 0
        self.hits = self.misses = self.disk_hits = self.evictions = 0
        self._lock = threading.RLock()
        self._db = db
        self._disk_bytes: int | None = None
        """Bytes of values on disk, counted once then kept up to date by `flush` (an upper
        bound: rows already present are counted again), so a flush costs what it writes."""

    def get(self, key: bytes) -> SectionResult | None:
        with self._lock:
            hit = self._lru.get(key)
            if hit is not None:
                self._lru.move_to_end(key)
                self.hits += 1
                return hit[0]
            if self._db is not None:
                row = self._db.execute("SELECT value FROM memo WHERE key=?", (key,)).fetchone()
                if row is not None:
                    value = unpack(row[0])
                    self._insert(key, value, len(row[0]) + ENTRY_OVERHEAD)
                    self.disk_hits += 1
                    return value
            self.misses += 1
            return None

    def put(self, key: bytes, value: SectionResult) -> None:
        with self._lock:
            if key in self._lru:
                self._lru.move_to_end(key)
                return
            data = pack(value)
            self._insert(key, value, len(data) + ENTRY_OVERHEAD)
            if self._db is not None:
                self._pending[key] = data

    def _insert(self, key: bytes, value: SectionResult, size: int) -> None:
        self._lru[key] = (value, size)
        self.bytes += size
        while self.bytes > self.max_bytes and len(self._lru) > 1:
            _, (_, old) = self._lru.popitem(last=False)
            self.bytes -= old
            self.evictions += 1

    def flush(self) -> int:
        """Write new entries to SQLite in one transaction; returns how many."""
        with self._lock:
            if self._db is None or not self._pending:
                return 0
            now = time.time()
            rows = [(k, v, now) for k, v in self._pending.items()]
            self._pending.clear()
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR IGNORE INTO memo VALUES (?, ?, ?)", rows)
            self._db.execute("COMMIT")
            if self.disk_max_bytes:
                if self._disk_bytes is not None:
                    self._disk_bytes += sum(len(v) for _, v, _ in rows)
                if self._disk_bytes is None or self._disk_bytes > self.disk_max_bytes:
                    self._trim_disk()
            return len(rows)

    def _trim_disk(self) -> None:
        assert self._db is not None
        total = self._db.execute("SELECT COALESCE(SUM(LENGTH(value)), 0) FROM memo").fetchone()[0]
        if total > self.disk_max_bytes:
            self._db.execute(
                "DELETE FROM memo WHERE key IN (SELECT key FROM memo ORDER BY used LIMIT "
                "(SELECT COUNT(*) / 4 FROM memo))")
            total = self._db.execute(
                "SELECT COALESCE(SUM(LENGTH(value)), 0) FROM memo").fetchone()[0]
        self._disk_bytes = int(total)

    def shrink(self, target: int) -> int:
        with self._lock:
            before = self.bytes
            while self.bytes > target and self._lru:
                _, (_, old) = self._lru.popitem(last=False)
                self.bytes -= old
                self.evictions += 1
            return before - self.bytes

    def clear_memory(self) -> None:
        with self._lock:
            self._lru.clear()
            self.bytes = 0

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {"entries": len(self._lru), "bytes": self.bytes, "max_bytes": self.max_bytes,
                    "hits": self.hits, "misses": self.misses, "disk_hits": self.disk_hits,
                    "evictions": self.evictions}

    def close(self) -> None:
        with self._lock:
            self.flush()
            if self._db is not None:
                self._db.close()
                self._db = None
