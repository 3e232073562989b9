"""Recording a small workload through the real client, for the tune tests."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

CONFIG = {"daemon": {"plugins": ["workspace", "tune"], "workers": 2},
          "workspace": {"memory_capacity": 8 << 20}}


def record(c: Any, name: str, calls: int = 1200, seed: int = 1) -> Path:
    """Record `calls` cache calls: a Zipf-like hot set over 300 keys, 8-16 KiB values; a
    get of a key not yet stored is followed by its put, as a cache's client does."""
    rng = random.Random(seed)
    weights = [1 / (i + 1) for i in range(300)]
    stored: set[int] = set()
    c.call("system.record", {"action": "start", "name": name})
    done = 0
    while done < calls:
        k = rng.choices(range(300), weights)[0]
        key = f"obj{k}"
        got = c.call("workspace.get", {"key": key})
        done += 1
        if got.get("data") is None and done < calls:
            c.call("workspace.put", {"key": key, "data": bytes(8192 + 64 * (k % 128))})
            stored.add(k)
            done += 1
    saved = c.call("system.record", {"action": "stop"})
    return Path(saved["path"])
