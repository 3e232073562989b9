"""The disk tier: content-addressed blob files plus an SQLite (WAL) index.

A blob holds the stored (possibly compressed) bytes of an entry and is named by
their BLAKE2b-256, so equal content stored the same way is kept once. It is
written with the plugin contract's `atomic_write` (unique temporary name, file
and directory fsync) before the index row is committed, so an acknowledged put
survives SIGKILL or power loss. The index is opened by the contract's `sqlite`
(WAL, the daemon's durability setting, schema versions in `MIGRATIONS`). The
index row records key, size, stored size, codec, checksum (BLAKE2b-128 of the
stored bytes), last access, frequency and expiry. Keys sharing content share
one blob.

Thread safety: `lock` guards the index and the blob files and is held across
I/O (fsync included), so only worker threads take it, never the event loop.
Accesses noted by `touch` (which the loop may call) go into a small table of
their own and reach the index in one transaction from `flush_access`, called
off the loop. Entry counts and byte totals are kept as counters, so `stats`
reads them without a query.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

INDEX = "index.sqlite3"
SCHEMA_1 = """
CREATE TABLE IF NOT EXISTS entries (
    key TEXT PRIMARY KEY,
    digest TEXT NOT NULL,
    size INTEGER NOT NULL,
    stored_size INTEGER NOT NULL,
    codec TEXT NOT NULL,
    checksum TEXT NOT NULL,
    created REAL NOT NULL,
    last_access REAL NOT NULL,
    freq INTEGER NOT NULL DEFAULT 1,
    expires REAL
);
CREATE INDEX IF NOT EXISTS entries_digest ON entries(digest);
CREATE INDEX IF NOT EXISTS entries_access ON entries(last_access);
"""
MIGRATIONS = (SCHEMA_1,)
"""Schema versions of the index; the first adopts the tables of releases before
versions (the same statements, `IF NOT EXISTS`)."""


class Storage(Protocol):
    """What the disk tier needs from the plugin contract (a `PluginContext` is one)."""

    def sqlite(self, name: str, migrations: Sequence[Any]) -> sqlite3.Connection: ...

    def atomic_write(self, path: Path, data: bytes) -> None: ...


FLUSH_AFTER = 1024
"""Distinct touched keys after which `touch` says a flush is due."""
_NEVER = (0.0, 0)
_CLOCK_OFFSET = time.monotonic() - time.time()
"""Wall-clock last-access times from the cheaper monotonic clock."""


class DiskError(OSError):
    """A blob could not be written or the index could not be updated."""


@dataclass(frozen=True)
class Entry:
    key: str
    digest: str
    size: int
    stored_size: int
    codec: str
    checksum: str
    expires: float | None


def checksum(stored: bytes) -> str:
    return hashlib.blake2b(stored, digest_size=16).hexdigest()


class DiskTier:
    def __init__(self, root: Path, capacity: int, storage: Storage) -> None:
        self.root = root
        self.blobs = root / "blobs"
        self.blobs.mkdir(parents=True, exist_ok=True)
        self.capacity = capacity
        self.storage = storage
        self.db = storage.sqlite(INDEX, MIGRATIONS)
        self.lock = threading.RLock()
        self.evictions = 0
        self._touched: dict[str, tuple[float, int]] = {}
        self._touch_lock = threading.Lock()
        self._count_all()

    def _count_all(self) -> None:
        """Read the counters from the index (at open and after a clear)."""
        row = self.db.execute(
            "SELECT COALESCE(SUM(s), 0) FROM "
            "(SELECT MAX(stored_size) AS s FROM entries GROUP BY digest)").fetchone()
        self.used = int(row[0])
        """Stored bytes on disk: each blob once."""
        n, raw, stored = self.db.execute(
            "SELECT COUNT(*), COALESCE(SUM(size), 0), COALESCE(SUM(stored_size), 0)"
            " FROM entries").fetchone()
        self.entries, self.raw, self.stored_total = int(n), int(raw), int(stored)
        """Keys; their raw bytes; their stored bytes counted per key (shared blobs twice)."""

    def path(self, digest: str) -> Path:
        return self.blobs / digest[:2] / digest[2:]

    def _write_blob(self, digest: str, stored: bytes) -> bool:
        """Write the blob durably; False when it already existed."""
        path = self.path(digest)
        if path.exists():
            return False
        try:
            path.parent.mkdir(exist_ok=True)
            self.storage.atomic_write(path, stored)
        except OSError as exc:
            raise DiskError(exc.errno, f"cannot write blob: {exc.strerror or exc}") from exc
        return True

    def put(self, key: str, size: int, codec: str, stored: bytes,
            ttl_s: float | None = None) -> list[str]:
        """Store durably; return the keys evicted to stay within capacity."""
        digest = hashlib.blake2b(stored, digest_size=32).hexdigest()
        with self.lock:
            return self._put(key, digest, size, codec, stored, ttl_s)

    def _put(self, key: str, digest: str, size: int, codec: str, stored: bytes,
             ttl_s: float | None) -> list[str]:
        new_blob = self._write_blob(digest, stored)
        now = time.time()
        old = self.get_entry(key)
        try:
            self.db.execute(
                "INSERT OR REPLACE INTO entries (key, digest, size, stored_size, codec, checksum,"
                " created, last_access, freq, expires) VALUES (?,?,?,?,?,?,?,?,1,?)",
                (key, digest, size, len(stored), codec, checksum(stored), now, now,
                 now + ttl_s if ttl_s else None))
        except sqlite3.Error as exc:
            raise DiskError(0, f"cannot update the index: {exc}") from exc
        if new_blob:
            self.used += len(stored)
        self.entries += 1
        self.raw += size
        self.stored_total += len(stored)
        if old is not None:
            self.entries -= 1
            self.raw -= old.size
            self.stored_total -= old.stored_size
            if old.digest != digest:
                self._release(old.digest, old.stored_size)
        return self._fit(keep=key)

    def _release(self, digest: str, stored_size: int) -> None:
        """Drop a blob once no key refers to it."""
        ref = self.db.execute("SELECT 1 FROM entries WHERE digest=? LIMIT 1", (digest,)).fetchone()
        if ref is None:
            self.path(digest).unlink(missing_ok=True)
            self.used -= stored_size

    def _fit(self, keep: str) -> list[str]:
        """Evict least recently accessed keys until the stored bytes fit."""
        evicted: list[str] = []
        if self.used <= self.capacity:
            return evicted
        self.flush_access()
        rows = self.db.execute("SELECT key FROM entries WHERE key != ? ORDER BY last_access",
                               (keep,))
        for (key,) in rows.fetchall():
            if self.used <= self.capacity:
                break
            self.delete(key)
            evicted.append(key)
            self.evictions += 1
        return evicted

    def get_entry(self, key: str) -> Entry | None:
        with self.lock:
            row = self.db.execute(
                "SELECT key, digest, size, stored_size, codec, checksum, expires FROM entries"
                " WHERE key=?", (key,)).fetchone()
        return Entry(*row) if row else None

    def sizes(self, keys: list[str]) -> dict[str, int]:
        """The raw size of each stored key among `keys` (one query per 500 keys)."""
        out: dict[str, int] = {}
        distinct = list(dict.fromkeys(keys))
        with self.lock:
            for lo in range(0, len(distinct), 500):
                part = distinct[lo:lo + 500]
                marks = ",".join("?" * len(part))
                out.update(self.db.execute(
                    f"SELECT key, size FROM entries WHERE key IN ({marks})", part).fetchall())
        return out

    def read(self, entry: Entry) -> bytes | None:
        """The stored bytes of `entry`, or None when the blob is missing or corrupt."""
        try:
            stored = self.path(entry.digest).read_bytes()
        except OSError:
            return None
        if len(stored) != entry.stored_size or checksum(stored) != entry.checksum:
            return None
        return stored

    def touch(self, key: str) -> bool:
        """Note an access in memory (no I/O, safe on the event loop); True once
        `FLUSH_AFTER` distinct keys wait for `flush_access`."""
        with self._touch_lock:
            _, freq = self._touched.get(key, _NEVER)
            self._touched[key] = (time.monotonic() - _CLOCK_OFFSET, freq + 1)
            return len(self._touched) >= FLUSH_AFTER

    @property
    def flush_due(self) -> bool:
        return len(self._touched) >= FLUSH_AFTER

    def flush_access(self) -> int:
        """Write the noted accesses to the index in one transaction (blocking: call it
        from a thread); return how many keys were written."""
        with self._touch_lock:
            touched, self._touched = self._touched, {}
        if not touched:
            return 0
        rows = [(t, n, k) for k, (t, n) in touched.items()]
        with self.lock:
            self.db.execute("BEGIN")
            try:
                self.db.executemany(
                    "UPDATE entries SET last_access=?, freq=freq+? WHERE key=?", rows)
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
        return len(rows)

    def delete(self, key: str) -> bool:
        with self.lock:
            entry = self.get_entry(key)
            if entry is None:
                return False
            self.db.execute("DELETE FROM entries WHERE key=?", (key,))
            self.entries -= 1
            self.raw -= entry.size
            self.stored_total -= entry.stored_size
            with self._touch_lock:
                self._touched.pop(key, None)
            self._release(entry.digest, entry.stored_size)
            return True

    def clear(self) -> int:
        with self.lock:
            n = self.entries
            digests = [d for (d,) in self.db.execute("SELECT DISTINCT digest FROM entries")]
            self.db.execute("DELETE FROM entries")
            for d in digests:
                self.path(d).unlink(missing_ok=True)
            with self._touch_lock:
                self._touched.clear()
            self._count_all()
            return n

    def count(self) -> int:
        return self.entries

    def raw_bytes(self) -> int:
        return self.raw

    def stored_bytes_total(self) -> int:
        return self.stored_total

    def close(self) -> None:
        self.flush_access()
        with self.lock:
            self.db.close()
