"""Reading back what a test worker appends to its journal, as events.

Why a journal: a worker that dies (a segfault, `os._exit`, the kill after a
timeout) cannot say which test it was running; the line it appended before the
test can. Both worker plugins (`pytest_worker`, which pulls work from the
daemon, and `pytest_shard`, which runs a static list) append one JSON object
per line:

    {"e": "collected", "tests": [...], "alone": [...], "errors": [...], "skips": [...]}
    {"e": "start", "id": nodeid}
    {"e": "done", "id": nodeid, "r": result}

This module only parses; what a hang or a crash means is `supervisor.py`'s.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

Event = dict[str, Any]


def parse(data: bytes) -> tuple[list[Event], int]:
    """The events in the complete lines of `data`, and how many bytes they used (a line
    still being written is left for the next read; a line that is not JSON is skipped)."""
    end = data.rfind(b"\n") + 1
    events: list[Event] = []
    for line in data[:end].decode("utf-8", "replace").splitlines():
        with contextlib.suppress(ValueError):
            ev = json.loads(line)
            if isinstance(ev, dict):
                events.append(ev)
    return events, end


class JournalReader:
    """Where one journal has been read up to; `read()` returns the events appended since.
    Blocking file I/O: on the event loop, call it through `asyncio.to_thread`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def read(self) -> list[Event]:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                data = f.read()
        except OSError:
            return []  # not created yet (the worker is still starting)
        events, used = parse(data)
        self.offset += used
        return events
