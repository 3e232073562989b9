"""After a run has answered: let its workers exit, log the ones that did not exit cleanly,
then remove the run's folder.

Why apart from the run: the answer goes out as soon as the last result is in, and
workers take a while to finish their pytest session (fixture teardown, plugins'
`sessionfinish`); waiting for that would only delay the caller. The exits are still
awaited (no zombie processes) and an abnormal one is logged with its output's tail.
"""

from __future__ import annotations

import asyncio
import logging
import shutil

from catalytic.plugins.testrun import workers as wk
from catalytic.plugins.testrun.runner import Run

CLEAN_EXITS = (0, 1, 5)
"""pytest's exit statuses for: all passed, some failed, nothing collected."""


def abnormal_exits(run: Run) -> list[str]:
    """One line (with the output's tail) per worker of `run` that ended otherwise."""
    out = []
    for w in run.workers.values():
        code = w.proc.returncode
        if code is not None and code not in CLEAN_EXITS and w.hello:
            out.append(f"worker {w.name} (pid {w.proc.pid}) exited with status {code} after "
                       f"the run:\n{wk.tail(w.watch.log, 2000)}")
    return out


async def retire(run: Run, log: logging.Logger) -> None:
    """Wait for `run`'s workers to exit (killing stragglers), log bad exits, remove its
    folder."""
    try:
        if run.stopping is None:
            await run.stop()  # cancelled or failed: its workers are stopped on purpose
            return
        await asyncio.shield(run.stopping)
        for line in abnormal_exits(run):
            log.warning("testrun %s: %s", run.o.root, line)
    except asyncio.CancelledError:
        await run.stop()  # the daemon is stopping: kill what is left, then go
        raise
    finally:
        await asyncio.to_thread(shutil.rmtree, run.o.run_dir, True)
