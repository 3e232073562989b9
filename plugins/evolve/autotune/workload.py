"""Workloads: bounded logs of calls with their sizes and keys, never their payloads.

A recorded workload is a JSON-lines file, one call a line:
`{"t": 0.0012, "method": "workspace.get", "key": "a/b", "size": 18000, "ratio": 0.4}`
(`t` seconds since the start; `ratio` the compressed/raw size when known;
`blocks` for `prd.decompose`, `cpu_s` for other CPU-bound calls and for
`loop` calls, which the model serves on the event loop at that fixed cost).
`synthetic` makes one with the same shape: Zipf-popular keys, sequential scans
that a prefetcher can anticipate, PRD decompositions and CPU-bound jobs, all
deterministic by seed.

The daemon's own recordings (`system.record`, saved as
`<state>/workloads/<name>.jsonl`) have another shape, one call a line:
`{"t", "method", "bytes", "latency_us", "key"?, "error"?}` (`bytes`: the str and
bin bytes the call carried). `from_recording` turns them into calls; see its
docstring for what it has to assume.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

METHODS = ("workspace.get", "workspace.put", "prd.decompose", "cpu", "loop")
MAX_CALLS = 1_000_000
BYTES_PER_BLOCK = 200
"""Document bytes per top-level Markdown block (1,825 blocks in 373 kB of the
sample PRDs this project was built with: 205 bytes a block)."""
DEFAULT_VALUE_SIZE = 4096
"""Size assumed for a get of a key no put in the recording shows, when it has no puts."""
POOL_LATENCY_S = 1e-3
"""Recorded calls the model does not simulate that took at least this long go to
the process pool as CPU work; quicker ones are served on the event loop."""


@dataclass(frozen=True)
class RecordedCall:
    """One call of a recorded (or synthetic) workload, as the cost model replays it."""

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


def parse(lines: Iterable[str], limit: int = MAX_CALLS) -> list[RecordedCall]:
    """Calls from JSON lines; raises ValueError naming the line that is wrong."""
    return read(lines, limit)[0]


def read(lines: Iterable[str], limit: int = MAX_CALLS) -> tuple[list[RecordedCall], dict[str, int]]:
    """Calls from JSON lines in either shape, and what a recording's conversion skipped."""
    rows: list[tuple[int, dict[str, Any]]] = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if len(rows) >= limit:
            raise ValueError(f"workload: more than {limit} calls")
        try:
            d = json.loads(line)
        except ValueError as e:
            raise ValueError(f"workload line {n}: {e}") from None
        if not isinstance(d, dict):
            raise ValueError(f"workload line {n}: not a JSON object")
        rows.append((n, d))
    if rows and "latency_us" in rows[0][1]:
        return from_recording(rows)
    out: list[RecordedCall] = []
    for n, d in rows:
        try:
            method = str(d["method"])
            if method not in METHODS:
                raise ValueError(f"method {method!r} is not one of {', '.join(METHODS)}")
            key = str(d.get("key", ""))
            out.append(RecordedCall(float(d["t"]), method, key, int(d.get("size", 0)),
                                    float(d.get("ratio", 0.5)), int(d.get("blocks", 0)),
                                    float(d.get("cpu_s", 0.0)), _seq_of(key)))
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"workload line {n}: {e}") from None
    out.sort(key=lambda c: c.t)
    return out, {}


def from_recording(rows: Sequence[tuple[int, dict[str, Any]]]
                   ) -> tuple[list[RecordedCall], dict[str, int]]:
    """Calls from a `system.record` log (line number, object) and the skipped counts.

    A recording has no payloads, so this assumes: a put's value is its `bytes`
    less the key's length; a get reads the size its key was last put with in the
    recording, or else the median put size (`DEFAULT_VALUE_SIZE` with no puts);
    the compressible share (`ratio`) is 0.5; a `prd.decompose` of `bytes` bytes
    has `bytes / BYTES_PER_BLOCK` blocks and a document of the same size is the
    same document (memo hit); any other method costs its recorded latency, on the
    event loop when under `POOL_LATENCY_S`, else as CPU work in the pool. Calls
    that failed (`error`) and workspace gets and puts without a key are skipped.
    """
    puts = [max(1, int(d.get("bytes", 0)) - len(str(d.get("key", ""))))
            for _, d in rows if d.get("method") == "workspace.put" and "key" in d]
    fallback = int(np.median(puts)) if puts else DEFAULT_VALUE_SIZE
    sizes: dict[str, int] = {}
    out: list[RecordedCall] = []
    skipped: dict[str, int] = {}
    for n, d in rows:
        try:
            t, method = float(d["t"]), str(d["method"])
            size, cost = int(d.get("bytes", 0)), float(d.get("latency_us", 0.0)) / 1e6
            if size < 0 or cost < 0 or not math.isfinite(t + cost):
                raise ValueError("bytes and latency_us must be finite and ≥ 0")
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"workload line {n}: {e}") from None
        key = d.get("key")
        if "error" in d or (method in ("workspace.get", "workspace.put")
                            and not isinstance(key, str)):
            why = "failed" if "error" in d else "no key"
            skipped[why] = skipped.get(why, 0) + 1
            continue
        if method == "workspace.put":
            assert isinstance(key, str)
            sizes[key] = max(1, size - len(key))
            out.append(RecordedCall(t, method, key, sizes[key], seq=_seq_of(key)))
        elif method == "workspace.get":
            assert isinstance(key, str)
            out.append(RecordedCall(t, method, key, sizes.get(key, fallback), seq=_seq_of(key)))
        elif method == "prd.decompose":
            out.append(RecordedCall(t, method, f"prd:{size}", size,
                                    blocks=max(1, size // BYTES_PER_BLOCK)))
        else:
            kind = "cpu" if cost >= POOL_LATENCY_S else "loop"
            out.append(RecordedCall(t, kind, method, 0, cpu_s=cost))
    out.sort(key=lambda c: c.t)
    return out, skipped


def load(path: Path, limit: int = MAX_CALLS) -> tuple[list[RecordedCall], dict[str, int]]:
    with path.open() as fh:
        return read(fh, limit)


def dump(calls: Sequence[RecordedCall]) -> str:
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


def synthetic(n: int = 20_000, seed: int = 0, keys: int = 2000,
              rate: float = 400.0) -> list[RecordedCall]:
    """A mixed workload of `n` calls arriving at about `rate` calls per second."""
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.exponential(1.0 / rate, n))
    kinds = rng.choice(4, size=n, p=[0.72, 0.08, 0.1, 0.1])
    ranks = np.minimum(rng.zipf(1.15, n) - 1, keys - 1)
    sizes = np.clip(rng.lognormal(np.log(40_000), 1.0, keys), 256, 4_000_000).astype(int)
    ratios = rng.uniform(0.15, 0.9, keys)
    out: list[RecordedCall] = []
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
            out.append(RecordedCall(float(t[i]), "workspace.get", key, int(sizes[h]),
                                    float(ratios[h]), seq=(f"scan{sid}", pos)))
            scan = (sid, pos + 1, end) if pos + 1 < end else None
            continue
        r = int(ranks[i])
        if k in (0, 1):
            method = "workspace.get" if k == 0 else "workspace.put"
            out.append(RecordedCall(float(t[i]), method, f"k{r}", int(sizes[r]), float(ratios[r])))
        elif k == 2:
            doc = r % 300
            out.append(RecordedCall(float(t[i]), "prd.decompose", f"prd{doc}", 2000 + 97 * doc,
                                    blocks=int(4 + (doc * 37) % 120)))
        else:
            out.append(RecordedCall(float(t[i]), "cpu", f"job{r % 50}", 0,
                                    cpu_s=float(rng.choice([0.002, 0.005, 0.02]))))
    return out


def footprint(calls: Sequence[RecordedCall]) -> np.ndarray:
    """Bytes of the distinct workspace values touched by calls[:i + 1], for each i."""
    seen: set[str] = set()
    out = np.zeros(len(calls))
    total = 0
    for i, c in enumerate(calls):
        if c.method in ("workspace.get", "workspace.put") and c.key not in seen:
            seen.add(c.key)
            total += c.size
        out[i] = total
    return out


def split(calls: Sequence[RecordedCall], held_out: float = 0.3) -> int:
    """Index where the held-out part starts: tuning sees calls[:cut] only.

    The held-out part is judged after replaying the tuning part as its warm-up
    past (the daemon is long-running), so nothing of it is seen while tuning.
    """
    return int(len(calls) * (1 - held_out))
