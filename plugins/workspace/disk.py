"""The disk tier: content-addressed blob files plus an SQLite (WAL) index.

A blob holds the stored (possibly compressed) bytes of an entry and is named by
their BLAKE2b-256, so equal content stored the same way is kept once. It is
written to a temporary name, fsynced, renamed and its directory fsynced
before the index row is committed, so an acknowledged put survives SIGKILL or
power loss. The index row records key, size, stored size, codec, checksum
(BLAKE2b-128 of the stored bytes), last access, frequency and expiry. Keys
sharing content share one blob.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
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
    def __init__(self, root: Path, capacity: int) -> None:
        self.root = root
        self.blobs = root / "blobs"
        self.blobs.mkdir(parents=True, exist_ok=True)
        self.capacity = capacity
        self.db = sqlite3.connect(root / "index.sqlite3", check_same_thread=False,
                                  isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)
        self.used = self._stored_bytes()
        self.evictions = 0
        self._touched: dict[str, tuple[float, int]] = {}

    def _stored_bytes(self) -> int:
        row = self.db.execute(
            "SELECT COALESCE(SUM(s), 0) FROM "
            "(SELECT MAX(stored_size) AS s FROM entries GROUP BY digest)").fetchone()
        return int(row[0])

    def path(self, digest: str) -> Path:
        return self.blobs / digest[:2] / digest[2:]

    def _write_blob(self, digest: str, stored: bytes) -> bool:
        """Write the blob durably; False when it already existed."""
        path = self.path(digest)
        if path.exists():
            return False
        path.parent.mkdir(exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                view = memoryview(stored)
                while view:
                    n = os.write(fd, view)
                    view = view[n:]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, path)
            dfd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise DiskError(exc.errno, f"cannot write blob: {exc.strerror or exc}") from exc
        return True

    def put(self, key: str, size: int, codec: str, stored: bytes,
            ttl_s: float | None = None) -> list[str]:
        """Store durably; return the keys evicted to stay within capacity."""
        digest = hashlib.blake2b(stored, digest_size=32).hexdigest()
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
        if old is not None and old.digest != digest:
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
        row = self.db.execute(
            "SELECT key, digest, size, stored_size, codec, checksum, expires FROM entries"
            " WHERE key=?", (key,)).fetchone()
        return Entry(*row) if row else None

    def read(self, entry: Entry) -> bytes | None:
        """The stored bytes of `entry`, or None when the blob is missing or corrupt."""
        try:
            stored = self.path(entry.digest).read_bytes()
        except OSError:
            return None
        if len(stored) != entry.stored_size or checksum(stored) != entry.checksum:
            return None
        return stored

    def touch(self, key: str) -> None:
        """Note an access (batched; written by `flush_access`)."""
        _, freq = self._touched.get(key, _NEVER)
        self._touched[key] = (time.monotonic() - _CLOCK_OFFSET, freq + 1)
        if len(self._touched) >= 1024:
            self.flush_access()

    def flush_access(self) -> None:
        if not self._touched:
            return
        rows = [(t, n, k) for k, (t, n) in self._touched.items()]
        self._touched.clear()
        self.db.executemany("UPDATE entries SET last_access=?, freq=freq+? WHERE key=?", rows)

    def delete(self, key: str) -> bool:
        entry = self.get_entry(key)
        if entry is None:
            return False
        self.db.execute("DELETE FROM entries WHERE key=?", (key,))
        self._touched.pop(key, None)
        self._release(entry.digest, entry.stored_size)
        return True

    def clear(self) -> int:
        n = int(self.db.execute("SELECT COUNT(*) FROM entries").fetchone()[0])
        digests = [d for (d,) in self.db.execute("SELECT DISTINCT digest FROM entries")]
        self.db.execute("DELETE FROM entries")
        for d in digests:
            self.path(d).unlink(missing_ok=True)
        self.used = 0
        self._touched.clear()
        return n

    def count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM entries").fetchone()[0])

    def raw_bytes(self) -> int:
        return int(self.db.execute("SELECT COALESCE(SUM(size), 0) FROM entries").fetchone()[0])

    def stored_bytes_total(self) -> int:
        return int(self.db.execute(
            "SELECT COALESCE(SUM(stored_size), 0) FROM entries").fetchone()[0])

    def close(self) -> None:
        self.flush_access()
        self.db.close()
