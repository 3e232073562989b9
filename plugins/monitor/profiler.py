"""cProfile results as tables of the hottest functions (by cumulative and by own time).

`hottest` works on a finished `cProfile.Profile`; the plugin enables one on the event
loop's thread for the requested seconds. `plugin` narrows the tables to functions
defined in that plugin's package.
"""

from __future__ import annotations

import cProfile
import marshal
import os
import pstats
from pathlib import Path
from typing import Any

ROOT = str(Path(__file__).resolve().parents[2]) + os.sep

PLUGIN_PATH = os.sep + os.path.join("plugins", "{name}") + os.sep


def rows(stats: pstats.Stats, plugin: str | None = None) -> list[dict[str, Any]]:
    """One row per function: where, calls, own and cumulative seconds."""
    needle = PLUGIN_PATH.format(name=plugin) if plugin else None
    out = []
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    for (filename, line, func), (cc, nc, tt, ct, _callers) in raw.items():
        if needle and needle not in filename:
            continue
        out.append({"function": func, "file": _short(filename), "line": line,
                    "calls": nc, "primitive_calls": cc, "own_s": tt, "cumulative_s": ct})
    return out


def hottest(profile: cProfile.Profile, top: int = 25,
            plugin: str | None = None) -> dict[str, Any]:
    stats = pstats.Stats(profile)
    table = rows(stats, plugin)
    total = sum(r["own_s"] for r in rows(stats))
    return {
        "by_cumulative": sorted(table, key=lambda r: -r["cumulative_s"])[:top],
        "by_own": sorted(table, key=lambda r: -r["own_s"])[:top],
        "functions": len(table),
        "total_own_s": total,
    }


def prof_bytes(profile: cProfile.Profile) -> bytes:
    """The `.prof` file content (what `pstats.Stats(path)` and snakeviz read)."""
    profile.create_stats()
    return marshal.dumps(profile.stats)


def _short(filename: str) -> str:
    if filename.startswith(ROOT):
        return filename[len(ROOT):]
    for marker in (os.sep + "catalytic" + os.sep, os.sep + "site-packages" + os.sep,
                   os.sep + "lib" + os.sep + "python"):
        at = filename.rfind(marker)
        if at >= 0:
            return filename[at + 1:]
    return filename
