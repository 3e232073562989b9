"""Workload recording: a bounded log of calls (method, key, sizes, latency), never payloads.

`system.record` starts and stops it; `evolve.autotune` replays what it saved.
The request path pays one attribute check while nothing is recorded.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from catalytic.daemon.store import atomic_write


def payload_bytes(value: Any) -> int:
    """Bytes of bin and str values in a params map (what the call carried)."""
    if isinstance(value, bytes | bytearray | str):
        return len(value)
    if isinstance(value, dict):
        return sum(payload_bytes(v) for v in value.values())
    if isinstance(value, list | tuple):
        return sum(payload_bytes(v) for v in value)
    return 0


class WorkloadRecorder:
    def __init__(self, name: str, max_calls: int) -> None:
        self.name = name
        self.max_calls = max_calls
        self.calls: list[dict[str, Any]] = []
        self.dropped = 0
        self.started = time.monotonic()

    def add(self, method: str, params: dict[str, Any], seconds: float,
            error: int | None) -> None:
        if method.startswith("system."):
            return
        if len(self.calls) >= self.max_calls:
            self.dropped += 1
            return
        entry: dict[str, Any] = {"t": round(time.monotonic() - self.started, 6),
                                 "method": method, "bytes": payload_bytes(params),
                                 "latency_us": round(seconds * 1e6, 1)}
        key = params.get("key")
        if isinstance(key, str):
            entry["key"] = key
        if error is not None:
            entry["error"] = error
        self.calls.append(entry)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write(path, "".join(json.dumps(c) + "\n" for c in self.calls).encode())

    def status(self) -> dict[str, Any]:
        return {"recording": True, "name": self.name, "calls": len(self.calls),
                "dropped": self.dropped, "max_calls": self.max_calls,
                "seconds": round(time.monotonic() - self.started, 3)}
