"""One policy for a test worker process: a hang is killed, a crash is reported with its test.

Why one: a local run (`runner.py`, workers that pull tests from the daemon)
and a shard job (`shard_job.py`, a static list in a pool process or on a
cluster worker) watch their pytest processes the same way. Each polls the
worker's journal and hands the events to the worker's `WorkerWatch`, which
knows which test runs since when and which finished (kept when the worker dies
later), says when the running test has passed the timeout (the caller then
calls `kill_group`), and writes the failed result of the test a dead worker
was running, naming the reason and the tail of the worker's output.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalytic.plugins.testrun.journal import Event, JournalReader


def kill_group(pid: int) -> None:
    """SIGKILL the worker and everything it started (it leads its own session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def exit_reason(status: int) -> str:
    """How a worker ended, from its exit status (negative: the signal that killed it)."""
    if status < 0:
        try:
            return f"worker crashed ({signal.Signals(-status).name})"
        except ValueError:
            return f"worker crashed (signal {-status})"
    return f"worker exited with status {status}"


@dataclass
class WorkerWatch:
    """What one worker process is doing, as its journal tells it."""

    journal: JournalReader
    log: Path
    """The worker's output (stdout and stderr): its tail goes into a crash report."""
    timeout_s: float = 0.0
    """A test running longer is killed (0: never)."""
    current: tuple[str, float] | None = None
    """(node id, monotonic time it started) of the test running now."""
    finished: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Results the journal holds, by node id: kept when the worker dies afterwards."""
    timed_out: str | None = None
    """The test the worker was killed for running too long."""

    def poll(self, now: float | None = None) -> list[Event]:
        """Read what was appended and `take` it (blocking: for job processes and threads)."""
        events = self.journal.read()
        self.take(events, time.monotonic() if now is None else now)
        return events

    def take(self, events: list[Event], now: float) -> list[dict[str, Any]]:
        """Apply the journal's start/done events; the results that came in, in order."""
        done: list[dict[str, Any]] = []
        for ev in events:
            kind = ev.get("e")
            if kind == "start":
                self.current = (str(ev["id"]), now)
            elif kind == "done":
                self.current = None
                r = {**ev["r"], "start": float(ev["r"].get("start", 0.0))}
                self.finished[str(ev["id"])] = r
                done.append(r)
        return done

    def overdue(self, now: float) -> bool:
        """True, once, when the running test has passed the timeout: kill the worker now."""
        t = self.timeout_s
        if t and self.current is not None and self.timed_out is None \
                and now - self.current[1] > t:
            self.timed_out = self.current[0]
            return True
        return False

    def crash_result(self, nodeid: str, status: int, output: str) -> dict[str, Any]:
        """The failed result of `nodeid`, which was running when the worker exited with
        `status`; `output` is the tail of the worker's log."""
        reason = (f"timed out after {self.timeout_s:g} s (worker killed)"
                  if self.timed_out == nodeid else exit_reason(status))
        now = time.monotonic()
        began = self.current[1] if self.current and self.current[0] == nodeid else now
        return {"nodeid": nodeid, "outcome": "failed", "duration_s": now - began,
                "start": time.time(), "message": reason + " while running this test",
                "longrepr": reason + "\n--- worker output (tail) ---\n" + output,
                "crashed": True}

    def unfinished_after(self, batch: list[str], nodeid: str) -> list[str]:
        """The tests of `batch` after `nodeid` that have no result: what must run again."""
        after = batch[batch.index(nodeid) + 1:] if nodeid in batch else []
        return [t for t in after if t not in self.finished]
