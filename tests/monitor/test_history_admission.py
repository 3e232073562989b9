"""`monitor.history` is admitted by memory before it loads (issue 15): a request whose
rows × metrics cannot fit in `daemon.memory_budget` is refused with -32004 naming the
limit; an ordinary one is served. Rows are counted, not guessed from `limit`."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import pytest

from catalytic.protocol.errors import TooLarge

MiB = 1 << 20


def test_history_beyond_the_budget_is_refused(make_daemon: Any) -> None:
    d = make_daemon({"daemon": {"plugins": ["monitor"], "memory_budget": 100 * MiB},
                     "monitor": {"interval_s": 0.05, "history_samples": 20}})
    with d.client() as c:
        deadline = time.monotonic() + 15
        while c.call("system.stats")["plugins"]["monitor"]["samples"] < 40:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        # since 1 s after the epoch: older than memory, read from SQLite (tens of rows)
        assert len(c.call("monitor.history", since=1.0, limit=100_000)["t"]) >= 20
    d.stop()
    # 120,000 stored rows of the last days (as the default retention keeps) do not fit
    start = time.time() - 3 * 86400
    db = sqlite3.connect(d.state_dir / "monitor" / "monitor.sqlite")
    db.executemany("INSERT OR IGNORE INTO samples VALUES (?, ?)",
                   ((start + i, "{}") for i in range(120_000)))
    db.commit()
    db.close()
    d.start()
    with d.client() as c:
        while not c.call("monitor.history", limit=5)["t"]:
            time.sleep(0.05)
        with pytest.raises(TooLarge) as err:
            c.call("monitor.history", since=1.0, limit=100_000)
        assert "monitor.history" in err.value.message
        assert "daemon.memory_budget" in err.value.message
        assert c.call("system.ping") is not None
