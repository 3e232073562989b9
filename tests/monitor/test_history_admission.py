"""`monitor.history` is admitted by memory before it loads (issue 15): a request whose
rows × metrics cannot fit in `daemon.memory_budget` is refused with -32004 naming the
limit; an ordinary one is served."""

from __future__ import annotations

import time
from typing import Any

import pytest

from catalytic.protocol.errors import TooLarge

MiB = 1 << 20


def test_history_beyond_the_budget_is_refused(make_daemon: Any) -> None:
    d = make_daemon({"daemon": {"plugins": ["monitor"], "memory_budget": 100 * MiB},
                     "monitor": {"interval_s": 0.1}})
    with d.client() as c:
        deadline = time.monotonic() + 15
        while not c.call("monitor.history", limit=5)["t"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert c.call("monitor.history", limit=900)["t"]
        with pytest.raises(TooLarge) as err:  # since 1 s after the epoch: read from SQLite
            c.call("monitor.history", since=1.0, limit=100_000)
        assert "monitor.history" in err.value.message
        assert "daemon.memory_budget" in err.value.message
        assert c.call("system.ping") is not None
