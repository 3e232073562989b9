"""Summaries of a metric's samples and the signed improvement against a baseline.

Plain functions over lists of floats, so reports and baselines are testable alone; they
run in a thread (a long window over hundreds of metrics is real work).
Sign convention: `improvement_vs_baseline` is positive when the metric got better,
whichever way "better" points for it (see `direction`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

LOWER = "lower_is_better"
HIGHER = "higher_is_better"
NEUTRAL = "neutral"

_HIGHER_WORDS = ("hit_ratio", "hits", "precision", "reuse", "hypervolume", "throughput",
                 "speedup", "saved", "improvement", "memo_hit")
_LOWER_WORDS = ("latency", "_ms", "_us", "lag", "rss", "cpu", "error", "makespan",
                "miss", "bytes", "duration", "seconds", "open_files", "threads", "gap")


def direction(metric: str) -> str:
    """Which way is better for `metric`, judged from its name (documented in docs/monitor.md).

    Client spans are durations (lower). Higher-is-better words win over lower-is-better
    ones, so `hit_ratio` is higher and `miss_ratio` lower; rates of calls, counts and
    uptime are neutral (more traffic is neither better nor worse).
    """
    name = metric.lower()
    if name.startswith("span."):
        return LOWER
    if ".rate_per_s" in name or name.endswith("calls") or "uptime" in name:
        return NEUTRAL
    if any(w in name for w in _HIGHER_WORDS):
        return HIGHER
    if any(w in name for w in _LOWER_WORDS) or name.endswith("_s"):
        return LOWER
    return NEUTRAL


def percentile(ordered: Sequence[float] | np.ndarray, q: float) -> float:
    """Nearest-rank percentile of an already sorted sequence (q in 0..1)."""
    if not len(ordered):
        return math.nan
    rank = max(1, math.ceil(q * len(ordered)))
    return float(ordered[min(len(ordered), rank) - 1])


def summarize(values: Sequence[float | None]) -> dict[str, float | int]:
    """mean, median, stdev (sample; 0 for one value), p95, min, max and n."""
    return summarize_many({"": values})[""]


def summarize_many(
        series: Mapping[str, Sequence[float | None]]) -> dict[str, dict[str, float | int]]:
    """`summarize` of every metric at once, vectorised over a metrics × samples matrix
    (a report over hundreds of metrics and a long window takes milliseconds, not a second).
    None, NaN and infinities are left out of each metric's figures."""
    names = list(series)
    if not names:
        return {}
    width = max(1, max(len(v) for v in series.values()))
    grid = np.full((len(names), width), np.nan)
    for row, name in enumerate(names):
        values = series[name]
        if len(values):
            grid[row, :len(values)] = np.asarray(values, dtype=float)
    grid[~np.isfinite(grid)] = np.nan
    grid.sort(axis=1)  # NaN last
    n = np.count_nonzero(~np.isnan(grid), axis=1)
    safe_n = np.maximum(n, 1)
    rows = np.arange(len(names))

    def at(index: np.ndarray) -> np.ndarray:
        return grid[rows, np.clip(index, 0, width - 1)]

    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nansum(grid, axis=1) / safe_n
        dev = np.where(np.isnan(grid), 0.0, grid - mean[:, None])
        stdev = np.sqrt((dev * dev).sum(axis=1) / np.maximum(n - 1, 1))
        median = (at((safe_n - 1) // 2) + at(safe_n // 2)) / 2
        rank = np.maximum(1, np.ceil(0.95 * safe_n).astype(int))
        p95 = at(np.minimum(safe_n, rank) - 1)
    out: dict[str, dict[str, float | int]] = {}
    for row, name in enumerate(names):
        count = int(n[row])
        if count == 0:
            out[name] = {"n": 0, "mean": math.nan, "median": math.nan, "stdev": math.nan,
                         "p95": math.nan, "min": math.nan, "max": math.nan}
            continue
        out[name] = {
            "n": count,
            "mean": float(mean[row]),
            "median": float(median[row]),
            "stdev": float(stdev[row]) if count > 1 else 0.0,
            "p95": float(p95[row]),
            "min": float(grid[row, 0]),
            "max": float(grid[row, count - 1]),
        }
    return out


def window(samples: Iterable[tuple[float, dict[str, float]]],
           since: float) -> dict[str, list[float]]:
    """metric → its values in the samples taken after `since` (a copy of the history,
    so a worker thread can build it while the loop keeps sampling)."""
    out: dict[str, list[float]] = {}
    for ts, values in samples:
        if ts <= since:
            continue
        for name, v in values.items():
            out.setdefault(name, []).append(v)
    return out


def improvement(metric: str, current_mean: float, baseline_mean: float) -> float | None:
    """Relative change of the mean, signed so that positive means better.

    None when there is nothing to compare (no baseline, NaN, a zero baseline with a
    zero current value, or a neutral metric).
    """
    way = direction(metric)
    if way == NEUTRAL or not (math.isfinite(current_mean) and math.isfinite(baseline_mean)):
        return None
    if baseline_mean == 0:
        if current_mean == 0:
            return 0.0
        return None
    change = (current_mean - baseline_mean) / abs(baseline_mean)
    return -change if way == LOWER else change


def report(current: Mapping[str, Sequence[float | None]],
           baseline: dict[str, dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """metric → {mean, median, stdev, p95, improvement_vs_baseline, direction, ...}."""
    out: dict[str, dict[str, Any]] = {}
    sums = summarize_many(current)
    for metric in sorted(current):
        s = sums[metric]
        if s["n"] == 0:
            continue
        base = (baseline or {}).get(metric)
        entry: dict[str, Any] = {
            "mean": s["mean"], "median": s["median"], "stdev": s["stdev"], "p95": s["p95"],
            "n": s["n"], "direction": direction(metric),
            "improvement_vs_baseline": None,
        }
        if base is not None:
            entry["baseline_mean"] = base.get("mean")
            entry["improvement_vs_baseline"] = improvement(
                metric, float(s["mean"]), float(base.get("mean", math.nan)))
        out[metric] = entry
    return out


def json_safe(value: Any) -> Any:
    """NaN and infinities become None (msgpack carries them, JSON does not)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value
