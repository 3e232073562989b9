"""Workload recording: a bounded log of calls (method, key, sizes, latency), never payloads.

`system.record` starts and stops it; the `tune` plugin replays what it saved
(`tune.run`, `tune.score`) to measure candidate settings.
Only calls the dispatcher accepted are recorded (a call refused by validation
never reaches it), keys longer than MAX_KEY_CHARS are cut, and the log stops
growing at `max_bytes` (counted as the JSON lines it will save), so a peer
cannot grow the daemon through it. The request path pays one attribute check
while nothing is recorded.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from catalytic.daemon.store import atomic_write

MAX_KEY_CHARS = 256
DEFAULT_MAX_BYTES = 64 << 20
MAX_DEPTH = 8
"""Nesting below this depth is not walked when sizing params."""


def payload_bytes(value: Any, depth: int = 0) -> int:
    """Bytes of bin and str values in a params map (what the call carried)."""
    if isinstance(value, bytes | bytearray | str):
        return len(value)
    if depth >= MAX_DEPTH:
        return 0
    if isinstance(value, dict):
        return sum(payload_bytes(v, depth + 1) for v in value.values())
    if isinstance(value, list | tuple):
        return sum(payload_bytes(v, depth + 1) for v in value)
    return 0


class WorkloadRecorder:
    def __init__(self, name: str, max_calls: int, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.name = name
        self.max_calls = max_calls
        self.max_bytes = max_bytes
        self.bytes = 0
        self.calls: list[dict[str, Any]] = []
        self.dropped = 0
        self.started = time.monotonic()

    def add(self, method: str, params: dict[str, Any], seconds: float,
            error: int | None) -> None:
        if method.startswith("system."):
            return
        if len(self.calls) >= self.max_calls or self.bytes >= self.max_bytes:
            self.dropped += 1
            return
        entry: dict[str, Any] = {"t": round(time.monotonic() - self.started, 6),
                                 "method": method, "bytes": payload_bytes(params),
                                 "latency_us": round(seconds * 1e6, 1)}
        key = params.get("key")
        if isinstance(key, str):
            entry["key"] = key[:MAX_KEY_CHARS]
        if error is not None:
            entry["error"] = error
        size = 80 + len(method) + len(entry.get("key", ""))
        if self.bytes + size > self.max_bytes:
            self.dropped += 1
            return
        self.bytes += size
        self.calls.append(entry)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write(path, "".join(json.dumps(c) + "\n" for c in self.calls).encode())

    def status(self) -> dict[str, Any]:
        return {"recording": True, "name": self.name, "calls": len(self.calls),
                "dropped": self.dropped, "max_calls": self.max_calls,
                "bytes": self.bytes, "max_bytes": self.max_bytes,
                "seconds": round(time.monotonic() - self.started, 3)}
