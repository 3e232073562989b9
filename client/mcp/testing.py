"""`run_tests`: the daemon's test run, cut down to what an agent acts on.

Counts, duration and only the failures, each with a clipped traceback; the
passing list never leaves the daemon's answer. Affected-test selection is
asked for only when the daemon's `testrun.run` declares `select`.
"""

from __future__ import annotations

import os
from typing import Any

from catalytic.client.mcp.link import DaemonLink, ProgressSink

FAILURES_SHOWN = 20
TRACE_LINES = 12
LINE_WIDTH = 160
COUNTS = ("tests", "passed", "failed", "errors", "skipped", "xfailed", "xpassed")


def clip(text: str, lines: int = TRACE_LINES, width: int = LINE_WIDTH) -> str:
    """The end of a traceback, captured output dropped, each line cut to `width`."""
    tb = text.split("\n----- Captured", 1)[0].rstrip()
    return "\n".join(line[:width] for line in tb.splitlines()[-lines:])


async def run_tests(link: DaemonLink, *, root: str, select: str | None, args: list[str],
                    python: str | None = None,
                    progress: ProgressSink | None = None) -> dict[str, Any]:
    # Relative paths are taken from the server's working folder (where the agent started it).
    params: dict[str, Any] = {"root": os.path.abspath(os.path.expanduser(root)), "args": args}
    if python is not None:
        params["python"] = os.path.abspath(os.path.expanduser(python))
    note = None
    if await link.has_param("testrun.run", "select"):
        params["select"] = select or "affected-first"
    elif select not in (None, "all"):
        note = f"this daemon cannot select affected tests; ran all instead of {select!r}"
    result = await link.call("testrun.run", params, progress=progress)
    out: dict[str, Any] = {k: result.get(k, 0) for k in COUNTS}
    out["exit_status"] = result.get("exit_status")
    out["duration_s"] = round(float(result.get("makespan_s", 0.0)), 3)
    for key in ("selected", "deselected", "first_failure_s"):
        if result.get(key) is not None:
            value = result[key]
            out[key] = len(value) if isinstance(value, list) else value
    if "select" in params:
        out["select"] = params["select"]
    failing = [r for r in result.get("results", []) if r.get("outcome") in ("failed", "error")]
    failures = []
    for r in failing[:FAILURES_SHOWN]:
        entry = {"nodeid": r["nodeid"], "outcome": r["outcome"],
                 "message": (str(r.get("message") or "").splitlines() or [""])[0][:LINE_WIDTH],
                 "traceback": clip(str(r.get("longrepr") or r.get("message") or ""))}
        if r.get("reason"):
            entry["reason"] = r["reason"]
        failures.append(entry)
    out["failures"] = failures
    if len(failing) > FAILURES_SHOWN:
        out["failures_more"] = len(failing) - FAILURES_SHOWN
    if result.get("order_dependent"):
        out["order_dependent"] = result["order_dependent"]
    if note:
        out["note"] = note
    return out
