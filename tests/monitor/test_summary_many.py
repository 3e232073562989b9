"""`summarize_many` (the vectorised summaries a report runs in a thread) agrees with the
plain definitions: statistics' mean/median/sample stdev and the nearest-rank p95."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from catalytic.plugins.monitor import summary


def expected(values: list[float | None]) -> dict[str, float | int]:
    clean = sorted(v for v in values if v is not None and math.isfinite(v))
    return {"n": len(clean), "mean": statistics.fmean(clean),
            "median": statistics.median(clean),
            "stdev": statistics.stdev(clean) if len(clean) > 1 else 0.0,
            "p95": summary.percentile(clean, 0.95), "min": clean[0], "max": clean[-1]}


def test_many_metrics_of_different_lengths() -> None:
    rng = random.Random(5)
    series: dict[str, list[float | None]] = {
        f"m{i}": [rng.uniform(-1e3, 1e3) for _ in range(rng.randint(1, 400))]
        for i in range(60)}
    series["gappy"] = [1.0, None, math.inf, 3.0, -math.inf, math.nan, 2.0]
    series["single"] = [7.5]
    series["pair"] = [1.0, 2.0]
    got = summary.summarize_many(series)  # type: ignore[arg-type]
    assert set(got) == set(series)
    for name, values in series.items():
        want = expected(values)
        for key, value in want.items():
            assert got[name][key] == pytest.approx(value, rel=1e-9, abs=1e-9), (name, key)


def test_empty_and_all_missing() -> None:
    got = summary.summarize_many({"none": [], "nan": [math.nan, None]})  # type: ignore[list-item]
    for name in ("none", "nan"):
        assert got[name]["n"] == 0 and math.isnan(got[name]["mean"])
    assert summary.summarize_many({}) == {}
