"""Work the daemon runs in its process pool for the workspace (picklable,
module-level): trace replay for `workspace.simulate`."""

from __future__ import annotations

from typing import Any

from .simulate import simulate
from .traces import read_trace


def simulate_job(keys: list[int] | None, trace: str | None, fmt: str, limit: int | None,
                 policies: list[str], capacities: list[int], prefetch: bool,
                 report: Any = None) -> dict[str, Any]:
    """Read the trace (if given) in the worker, then replay every policy × capacity."""
    if trace is not None:
        keys = read_trace(trace, fmt, limit)
    assert keys is not None
    if limit is not None:
        keys = keys[:limit]
    out = simulate(keys, policies, capacities, prefetch, report)
    if trace is not None:
        out["trace"] = trace
    return out
