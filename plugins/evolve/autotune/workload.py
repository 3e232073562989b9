"""Workloads: bounded logs of calls with their sizes and keys, never their payloads.

A recorded workload is a JSON-lines file, one call a line:
`{"t": 0.0012, "method": "workspace.get", "key": "a/b", "size": 18000, "ratio": 0.4}`
(`t` seconds since the start; `ratio` the compressed/raw size when known;
`blocks` for `prd.decompose`, `cpu_s` for other CPU-bound calls). `synthetic`
makes one with the same shape: Zipf-popular keys, sequential scans that a
prefetcher can anticipate, PRD decompositions and CPU-bound jobs, all
deterministic by seed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

METHODS = ("workspace.get", "workspace.put", "prd.decompose", "cpu")
MAX_CALLS = 1_000_000


@dataclass(frozen=True)
class Call:
    t: float
    method: str
    key: str
    size: int
    ratio: float = 0.5
    blocks: int = 0
    cpu_s: float = 0.0
    seq: tuple[str, int] | None = None
    """(scan name, position) when the key is part of a sequential scan."""


def _seq_of(key: str) -> tuple[str, int] | None:
    head, _, tail = key.rpartition("#")
    return (head, int(tail)) if head and tail.isdigit() else None


def parse(lines: Iterable[str], limit: int = MAX_CALLS) -> list[Call]:
    """Calls from JSON lines; raises ValueError naming the line that is wrong."""
    out: list[Call] = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if len(out) >= limit:
            raise ValueError(f"workload: more than {limit} calls")
        try:
            d: dict[str, Any] = json.loads(line)
            method = str(d["method"])
            if method not in METHODS:
                raise ValueError(f"method {method!r} is not one of {', '.join(METHODS)}")
            key = str(d.get("key", ""))
            out.append(Call(float(d["t"]), method, key, int(d.get("size", 0)),
                            float(d.get("ratio", 0.5)), int(d.get("blocks", 0)),
                            float(d.get("cpu_s", 0.0)), _seq_of(key)))
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"workload line {n}: {e}") from None
    out.sort(key=lambda c: c.t)
    return out


def load(path: Path, limit: int = MAX_CALLS) -> list[Call]:
    with path.open() as fh:
        return parse(fh, limit)


def dump(calls: Sequence[Call]) -> str:
    rows = []
    for c in calls:
        d: dict[str, Any] = {"t": round(c.t, 6), "method": c.method, "key": c.key,
                             "size": c.size, "ratio": round(c.ratio, 3)}
        if c.blocks:
            d["blocks"] = c.blocks
        if c.cpu_s:
            d["cpu_s"] = c.cpu_s
        rows.append(json.dumps(d))
    return "\n".join(rows) + "\n"


def synthetic(n: int = 20_000, seed: int = 0, keys: int = 2000, rate: float = 400.0) -> list[Call]:
    """A mixed workload of `n` calls arriving at about `rate` calls per second."""
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.exponential(1.0 / rate, n))
    kinds = rng.choice(4, size=n, p=[0.72, 0.08, 0.1, 0.1])
    ranks = np.minimum(rng.zipf(1.15, n) - 1, keys - 1)
    sizes = np.clip(rng.lognormal(np.log(40_000), 1.0, keys), 256, 4_000_000).astype(int)
    ratios = rng.uniform(0.15, 0.9, keys)
    out: list[Call] = []
    scan: tuple[int, int, int] | None = None  # (scan id, next position, end)
    scans = 0
    for i in range(n):
        k = int(kinds[i])
        if k == 0 and (scan is not None or rng.random() < 0.03):
            if scan is None:
                scans += 1
                scan = (scans % 40, 0, int(rng.integers(8, 40)))
            sid, pos, end = scan
            key = f"scan{sid}#{pos}"
            h = hash((sid, pos)) % keys
            out.append(Call(float(t[i]), "workspace.get", key, int(sizes[h]), float(ratios[h]),
                            seq=(f"scan{sid}", pos)))
            scan = (sid, pos + 1, end) if pos + 1 < end else None
            continue
        r = int(ranks[i])
        if k in (0, 1):
            method = "workspace.get" if k == 0 else "workspace.put"
            out.append(Call(float(t[i]), method, f"k{r}", int(sizes[r]), float(ratios[r])))
        elif k == 2:
            doc = r % 300
            out.append(Call(float(t[i]), "prd.decompose", f"prd{doc}", 2000 + 97 * doc,
                            blocks=int(4 + (doc * 37) % 120)))
        else:
            out.append(Call(float(t[i]), "cpu", f"job{r % 50}", 0,
                            cpu_s=float(rng.choice([0.002, 0.005, 0.02]))))
    return out


def split(calls: Sequence[Call], held_out: float = 0.3) -> int:
    """Index where the held-out part starts: tuning sees calls[:cut] only.

    The held-out part is judged after replaying the tuning part as its warm-up
    past (the daemon is long-running), so nothing of it is seen while tuning.
    """
    return int(len(calls) * (1 - held_out))
