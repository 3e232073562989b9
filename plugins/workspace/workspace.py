"""The workspace itself: a memory tier (capacity in stored bytes, run by an
eviction policy) over the durable disk tier, with per-entry compression,
checksummed reads, TTLs and predictive prefetch. Blocking and thread-safe; the
plugin calls it from worker threads and keeps memory hits on its event loop.

Two locks, never taken in the other order: the disk tier's `disk.lock` (held
across file and index I/O, by worker threads only) and `lock` for the memory
tier (held for a few dictionary operations at a time, never across I/O), so a
memory hit on the event loop never waits for an fsync.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .codec import Codec
from .disk import DiskTier, Storage
from .policies import NAMES, make
from .policies.base import Policy
from .prefetch import PrefetchStats, SuccessorModel

KEY_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._:/@+=,-]{0,511}")


class InvalidKey(ValueError):
    """A key that is not of the allowed form."""


class ValueTooLarge(ValueError):
    """A value over `max_value_bytes`."""


QUICK_DECODE_BYTES = 256 << 10
"""Largest compressed value `quick_get` decompresses on the caller's thread (the
event loop); larger ones are left to `get` in a worker thread."""


KEY_RULE = ("1-512 characters of [A-Za-z0-9._:/@+=,-], starting with a letter, digit or "
            "'_', without '..'")
"""What a key must be, as error messages say it."""


def check_key(key: object) -> str:
    if not isinstance(key, str) or not KEY_RE.fullmatch(key) or ".." in key:
        raise InvalidKey(f"key must be {KEY_RULE}; got {key!r:.80}")
    return key


def content_key(data: bytes) -> str:
    """The default key: BLAKE2b-256 of the content, in hex."""
    return hashlib.blake2b(data, digest_size=32).hexdigest()


@dataclass
class TierStats:
    hits: int = 0
    misses: int = 0
    evictions: int = 0

    def as_dict(self, entries: int, used: int, capacity: int) -> dict[str, Any]:
        total = self.hits + self.misses
        return {"entries": entries, "bytes": used, "capacity": capacity, "hits": self.hits,
                "misses": self.misses, "hit_ratio": round(self.hits / total, 4) if total else 0.0,
                "evictions": self.evictions}


@dataclass
class Settings:
    memory_capacity: int = 256 << 20
    disk_capacity: int = 10 << 30
    policy: str = "auto"
    compression: str = "zstd"
    zstd_level: int = 3
    min_ratio: float = 0.9
    max_value_bytes: int = 64 << 20
    prefetch: bool = True
    prefetch_depth: int = 2
    prefetch_budget_bytes: int = 8 << 20
    snapshot_keys: int = 100_000

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> Settings:
        return cls(**{k: cfg[k] for k in cls.__dataclass_fields__ if k in cfg})


@dataclass
class _Mem:
    codec: str
    stored: bytes
    size: int
    expires: float | None


@dataclass
class Workspace:
    root: Path
    storage: Storage
    """The plugin contract's storage services (`sqlite`, `atomic_write`): the context."""
    settings: Settings = field(default_factory=Settings)

    def __post_init__(self) -> None:
        s = self.settings
        self.lock = threading.RLock()
        """The memory tier's lock: never held across I/O."""
        self.codec = Codec(s.compression, s.zstd_level, s.min_ratio)
        self.disk = DiskTier(self.root, s.disk_capacity, self.storage)
        self.mem: dict[str, _Mem] = {}
        """The memory tier's entries, least recently used first."""
        self.mem_used = 0
        self.mem_raw = 0
        self.policy = self._make_policy(s.policy)
        self.memory = TierStats()
        self.disk_stats = TierStats()
        self.model = SuccessorModel()
        self.prefetch = PrefetchStats()
        self._pending: set[str] = set()
        self.corrupt = 0
        self.puts = 0

    # -- memory tier ---------------------------------------------------------------
    def _make_policy(self, name: str) -> Policy:
        if name not in NAMES:
            raise ValueError(f"unknown policy {name!r}; choose one of {', '.join(NAMES)}")
        pol = make(name, max(1, self.settings.memory_capacity), sized=True)
        pol.on_evict = self._on_evict
        return pol

    def _on_evict(self, key: Any) -> None:
        m = self.mem.pop(key, None)
        if m is not None:
            self.mem_used -= len(m.stored)
            self.mem_raw -= m.size
            self.memory.evictions += 1
        self._pending.discard(key)

    def _admit(self, key: str, m: _Mem) -> bool:
        """Offer an entry to the memory tier; the policy decides."""
        old = self.mem.pop(key, None)
        if old is not None:
            self.mem_used -= len(old.stored)
            self.mem_raw -= old.size
            self.policy.remove(key)
        self.policy.access(key, max(1, len(m.stored)))
        if key in self.policy:
            self.mem[key] = m
            self.mem_used += len(m.stored)
            self.mem_raw += m.size
            return True
        return False

    # -- public API ------------------------------------------------------------------
    def put(self, data: bytes, key: str | None = None, ttl_s: float | None = None,
            codec: str | None = None) -> dict[str, Any]:
        if len(data) > self.settings.max_value_bytes:
            raise ValueTooLarge(f"value is {len(data)} bytes; workspace.max_value_bytes is "
                                f"{self.settings.max_value_bytes}")
        key = check_key(key) if key is not None else content_key(data)
        used_codec, stored = self.codec.encode(data, codec)
        expires = time.time() + ttl_s if ttl_s else None
        with self.disk.lock:  # held until the memory tier agrees with the disk
            evicted = self.disk.put(key, len(data), used_codec, stored, ttl_s)
            with self.lock:
                for gone in evicted:
                    self.disk_stats.evictions += 1
                    self._drop_mem(gone)
                self.puts += 1
                in_memory = self._admit(key, _Mem(used_codec, stored, len(data), expires))
        return {"key": key, "size": len(data), "stored_size": len(stored), "codec": used_codec,
                "tier": "memory" if in_memory else "disk"}

    def _drop_mem(self, key: str) -> None:
        m = self.mem.pop(key, None)
        if m is not None:
            self.mem_used -= len(m.stored)
            self.mem_raw -= m.size
        self.policy.remove(key)
        self._pending.discard(key)

    def quick_get(self, key: str) -> bytes | None:
        """A memory-tier hit that is cheap to decode, or None (then call `get` from a
        thread). No I/O, no waiting on the disk: safe on the event loop."""
        return self.get_memory(key, QUICK_DECODE_BYTES)

    def get_memory(self, key: str, decode_limit: int | None = None) -> bytes | None:
        """A memory-tier hit, or None (then call `get`). No disk I/O. With
        `decode_limit`, a compressed value larger than that is not served (nor counted)."""
        with self.lock:
            m = self.mem.get(key)
            if m is None or (m.expires is not None and m.expires < time.time()):
                return None
            if decode_limit is not None and m.codec != "none" and m.size > decode_limit:
                return None
            self.policy.access(key, len(m.stored))
            self.mem[key] = self.mem.pop(key)  # `mem` is kept in recency order
            self.memory.hits += 1
            self.disk.touch(key)
            if key in self._pending:
                self._pending.discard(key)
                self.prefetch.used += 1
            self.model.observe(key)
        return Codec.decode(m.codec, m.stored)

    def get(self, key: str) -> tuple[bytes | None, str | None]:
        check_key(key)
        data = self.get_memory(key)
        if data is not None:
            return data, "memory"
        with self.lock:
            self.memory.misses += 1
            self.prefetch.demand_misses += 1
            self.model.observe(key)
        with self.disk.lock:
            loaded = self._load(key)
            with self.lock:
                if loaded is None:
                    self.disk_stats.misses += 1
                    return None, None
                self.disk_stats.hits += 1
                self._admit(key, loaded)
        if self.disk.touch(key):
            self.disk.flush_access()
        return Codec.decode(loaded.codec, loaded.stored), "disk"

    def value_sizes(self, keys: list[str]) -> dict[str, int]:
        """The raw size of each stored key among `keys` (memory tier, else the index)."""
        with self.lock:
            mem = {k: self.mem[k].size for k in keys if k in self.mem}
        rest = [k for k in keys if k not in mem]
        return {**self.disk.sizes(rest), **mem} if rest else mem

    def reply_bytes(self, keys: list[str]) -> tuple[int, int]:
        """What the values of `keys` add up to, read from the index before reading any:
        (each repeated key counted each time, as a reply carries it; each key once, as
        `get_many` holds it). Absent keys count 0."""
        sizes = self.value_sizes(keys)
        return sum(sizes.get(k, 0) for k in keys), sum(sizes.values())

    def get_many(self, keys: list[str]) -> list[tuple[bytes | None, str | None]]:
        """`get` of each key in order; a repeated key shares one value object."""
        seen: dict[str, tuple[bytes | None, str | None]] = {}
        for k in keys:
            if k not in seen:
                seen[k] = self.get(k)
        return [seen[k] for k in keys]

    def _load(self, key: str) -> _Mem | None:
        """Read and verify an entry from disk; expired or corrupt entries are removed."""
        entry = self.disk.get_entry(key)
        if entry is None:
            return None
        if entry.expires is not None and entry.expires < time.time():
            self.delete(key)
            return None
        stored = self.disk.read(entry)
        if stored is None:
            self.corrupt += 1
            self.delete(key)
            return None
        return _Mem(entry.codec, stored, entry.size, entry.expires)

    def has(self, key: str) -> str | None:
        check_key(key)
        with self.lock:
            if key in self.mem:
                return "memory"
        with self.disk.lock:
            entry = self.disk.get_entry(key)
            if entry is None or (entry.expires is not None and entry.expires < time.time()):
                return None
            return "disk"

    def delete(self, key: str) -> bool:
        check_key(key)
        with self.disk.lock:
            with self.lock:
                self._drop_mem(key)
            return self.disk.delete(key)

    def clear(self) -> int:
        with self.disk.lock:
            with self.lock:
                for key in list(self.mem):
                    self._drop_mem(key)
            return self.disk.clear()

    def wants_prefetch(self, key: str) -> bool:
        """Cheap check (no I/O): does the model predict a successor not in memory?"""
        if not self.settings.prefetch:
            return False
        with self.lock:
            return any(isinstance(k, str) and k not in self.mem
                       for k in self.model.predict(key, self.settings.prefetch_depth))

    def prefetch_after(self, key: str) -> int:
        """Move the likely successors of `key` from disk to memory; return how many."""
        s = self.settings
        if not s.prefetch:
            return 0
        with self.lock:
            wanted = [k for k in self.model.predict(key, s.prefetch_depth)
                      if isinstance(k, str) and k not in self.mem]
        budget, moved = s.prefetch_budget_bytes, 0
        for nk in wanted:
            with self.disk.lock:
                entry = self.disk.get_entry(nk)
                if entry is None or entry.stored_size > budget:
                    continue
                loaded = self._load(nk)
                if loaded is None:
                    continue
                budget -= len(loaded.stored)
                with self.lock:
                    if nk in self.mem or not self._admit(nk, loaded):
                        continue
                    self._pending.add(nk)
                    self.prefetch.issued += 1
                    self.prefetch.bytes_prefetched += len(loaded.stored)
                    moved += 1
        return moved

    def shrink(self, target: int) -> int:
        """Evict memory-tier entries (least recently used first) until at most `target`
        bytes remain, a batch at a time so the event loop's memory hits wait at most one
        batch (asking the policy for its whole order would hold the lock for tens of ms)."""
        with self.lock:
            before = self.mem_used
            order = list(self.mem)
        for lo in range(0, len(order), 256):
            with self.lock:
                for key in order[lo:lo + 256]:
                    if self.mem_used <= target:
                        return before - self.mem_used
                    if key in self.mem:
                        self._drop_mem(key)
                        self.memory.evictions += 1
        with self.lock:
            return before - self.mem_used

    def set_policy(self, name: str) -> None:
        """Switch the memory tier's policy at run time, carrying the resident set.

        The new policy is fed the entries (least recently used first) without the lock;
        under it, only what changed meanwhile is applied and the policies swapped, so
        memory hits on the event loop wait for a copy and two set differences (done in
        C), not a rebuild."""
        with self.lock:
            seen = dict(self.mem)
        new = self._make_policy(name)
        new.on_evict = None  # while building, an eviction touches nothing resident
        for key, m in seen.items():
            new.access(key, max(1, len(m.stored)))
        dropped = [k for k in seen if k not in new]
        with self.lock:
            new.on_evict = self._on_evict
            for key in seen.keys() - self.mem.keys():
                new.remove(key)
            for key in self.mem.keys() - seen.keys():
                new.access(key, max(1, len(self.mem[key].stored)))
            self.policy.on_evict = None
            self.policy = new
            for key in dropped:
                self._drop_mem(key)
            self.settings.policy = name

    def policy_name(self) -> str:
        current = getattr(self.policy, "current", None)
        return f"auto ({current})" if current else self.policy.name

    def stats(self) -> dict[str, Any]:
        """Counters only (no I/O, no pass over the entries): cheap on the event loop."""
        with self.lock:
            raw = self.mem_raw
            disk_raw, disk_stored = self.disk.raw_bytes(), self.disk.stored_bytes_total()
            return {
                "policy": self.policy_name(),
                "memory": {**self.memory.as_dict(len(self.mem), self.mem_used,
                                                 self.settings.memory_capacity),
                           "raw_bytes": raw},
                "disk": {**self.disk_stats.as_dict(self.disk.count(), self.disk.used,
                                                   self.settings.disk_capacity),
                         "raw_bytes": disk_raw},
                "compression": {
                    "codec": self.settings.compression,
                    "ratio": round(disk_raw / disk_stored, 3) if disk_stored else 1.0,
                    "bytes_saved": disk_raw - disk_stored,
                },
                "prefetch": {"enabled": self.settings.prefetch, **self.prefetch.as_dict()},
                "corrupt_removed": self.corrupt,
                "puts": self.puts,
            }

    # -- warm restart ----------------------------------------------------------------
    def snapshot(self, path: Path) -> int:
        """Write the memory tier's keys (least recently used first) atomically; return
        how many. The lock is held only to copy the keys (recency order is `mem`'s own)."""
        with self.lock:
            keys = list(self.mem)
        keys = keys[-self.settings.snapshot_keys:] if self.settings.snapshot_keys else []
        self.disk.flush_access()
        body = {"version": 1, "policy": self.settings.policy, "keys": keys}
        self.storage.atomic_write(path, json.dumps(body).encode())
        return len(keys)

    def restore(self, path: Path) -> int:
        """Load the snapshot's keys from disk into memory; return how many came back."""
        try:
            keys = json.loads(path.read_text()).get("keys", [])
        except (OSError, ValueError):
            return 0
        n = 0
        with self.disk.lock:
            for key in keys:
                if isinstance(key, str) and key not in self.mem:
                    loaded = self._load(key)
                    with self.lock:
                        if loaded is not None and self._admit(key, loaded):
                            n += 1
        return n

    def flush_access(self) -> int:
        """Write the accesses noted since the last flush (blocking: from a thread)."""
        return self.disk.flush_access()

    @property
    def flush_due(self) -> bool:
        return self.disk.flush_due

    def close(self) -> None:
        self.disk.close()
