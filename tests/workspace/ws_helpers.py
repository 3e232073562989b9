"""Shared helpers for the workspace tests: traces and libCacheSim replay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

DATA = Path(__file__).resolve().parents[1] / "data" / "workspace"
U64 = (1 << 64) - 1


def zipf_keys(alpha: float, n_keys: int, n_req: int, seed: int) -> list[int]:
    """A Zipf(alpha) trace over `n_keys` keys, reproducible from `seed`."""
    p = 1.0 / np.arange(1, n_keys + 1) ** alpha
    p /= p.sum()
    return [int(k) for k in np.random.default_rng(seed).choice(n_keys, n_req, p=p)]


def lcs_hits(lcs: Any, policy: str, keys: list[int], capacity: int) -> int:
    """Hits of libCacheSim's `policy` over `keys` (objects of size 1)."""
    from catalytic.plugins.workspace.policies.belady import NEVER, next_uses

    cls = {"lru": lcs.LRU, "lfu": lcs.LFU, "arc": lcs.ARC, "s3fifo": lcs.S3FIFO,
           "sieve": lcs.Sieve, "wtinylfu": lcs.WTinyLFU, "belady": lcs.Belady,
           "lirs": lcs.LIRS}[policy]
    cache = cls(capacity)
    req = lcs.Request()
    req.obj_size = 1
    nxt = next_uses(keys) if policy == "belady" else None
    hits = 0
    for i, k in enumerate(keys):
        req.obj_id = k & U64
        if nxt is not None:
            req.next_access_vtime = nxt[i] if nxt[i] != NEVER else (1 << 62)
        hits += cache.get(req)
    return hits


class LocalStorage:
    """The contract's storage services for a workspace built outside a daemon
    (what `PluginContext.sqlite` / `.atomic_write` run, on a test's folder)."""

    def __init__(self, root: Path, synchronous: str = "FULL") -> None:
        self.root = root
        self.synchronous = synchronous

    def sqlite(self, name: str, migrations: Any) -> Any:
        from catalytic.daemon.store import open_store

        return open_store(self.root / name, migrations, synchronous=self.synchronous)

    def atomic_write(self, path: Path, data: bytes) -> None:
        from catalytic.daemon.store import atomic_write

        atomic_write(path, data)


def open_workspace(root: Path, **settings: Any) -> Any:
    """A `Workspace` in `root` with these settings, as the plugin would open it."""
    from catalytic.plugins.workspace.workspace import Settings, Workspace

    return Workspace(root, LocalStorage(root), Settings(**settings))
