"""Summaries, improvement signs, spans and the history ring, without a daemon."""

from __future__ import annotations

import math

import pytest

from catalytic.plugins.monitor import summary
from catalytic.plugins.monitor.history import Ring, columns
from catalytic.plugins.monitor.spans import SpanBook, SpanError


def test_summarize_known_values() -> None:
    s = summary.summarize([4.0, 1.0, 3.0, 2.0, 10.0])
    assert s["n"] == 5
    assert s["mean"] == pytest.approx(4.0)
    assert s["median"] == 3.0
    assert s["stdev"] == pytest.approx(math.sqrt(sum((x - 4) ** 2 for x in
                                                      [4, 1, 3, 2, 10]) / 4))
    assert s["p95"] == 10.0
    assert summary.summarize([])["n"] == 0
    assert summary.summarize([7.0])["stdev"] == 0.0


@pytest.mark.parametrize(("metric", "way"), [
    ("method.system.ping.p95_ms", summary.LOWER),
    ("loop.lag_max_ms", summary.LOWER),
    ("process.rss_bytes", summary.LOWER),
    ("plugin.workspace.hit_ratio", summary.HIGHER),
    ("plugin.workspace.miss_ratio", summary.LOWER),
    ("plugin.prd.memo_hits", summary.HIGHER),
    ("method.system.ping.rate_per_s", summary.NEUTRAL),
    ("method.system.ping.calls", summary.NEUTRAL),
    ("span.hit_ratio_step.ms", summary.LOWER),
])
def test_direction(metric: str, way: str) -> None:
    assert summary.direction(metric) == way


def test_improvement_signs() -> None:
    # Lower is better: latency halved is +50 %, doubled is -100 %.
    assert summary.improvement("x.p95_ms", 5.0, 10.0) == pytest.approx(0.5)
    assert summary.improvement("x.p95_ms", 20.0, 10.0) == pytest.approx(-1.0)
    # Higher is better: hit ratio from 0.5 to 0.75 is +50 %, to 0.25 is -50 %.
    assert summary.improvement("plugin.workspace.hit_ratio", 0.75, 0.5) == pytest.approx(0.5)
    assert summary.improvement("plugin.workspace.hit_ratio", 0.25, 0.5) == pytest.approx(-0.5)
    assert summary.improvement("method.a.rate_per_s", 5.0, 1.0) is None
    assert summary.improvement("x.p95_ms", 0.0, 0.0) == 0.0
    assert summary.improvement("x.p95_ms", 1.0, 0.0) is None


def test_report_against_baseline() -> None:
    base = {"a.p95_ms": summary.summarize([10.0, 10.0]),
            "plugin.w.hit_ratio": summary.summarize([0.4])}
    out = summary.report({"a.p95_ms": [8.0, 8.0], "plugin.w.hit_ratio": [0.6],
                          "new.metric_ms": [1.0]}, base)
    assert out["a.p95_ms"]["improvement_vs_baseline"] == pytest.approx(0.2)
    assert out["plugin.w.hit_ratio"]["improvement_vs_baseline"] == pytest.approx(0.5)
    assert out["new.metric_ms"]["improvement_vs_baseline"] is None
    for entry in out.values():
        assert {"mean", "median", "stdev", "p95", "improvement_vs_baseline"} <= set(entry)


def test_spans_rules() -> None:
    book = SpanBook(timeout_s=10.0)
    sid = book.start("build", now=100.0)
    assert book.end(sid, now=102.5) == ("build", 2.5)
    with pytest.raises(SpanError) as err:
        book.end(sid, now=103.0)
    assert err.value.reason == "ended"
    with pytest.raises(SpanError) as err:
        book.end("s999")
    assert err.value.reason == "unknown"
    late = book.start("never", now=200.0)
    assert book.expire(now=211.0) == 1
    with pytest.raises(SpanError) as err:
        book.end(late, now=212.0)
    assert err.value.reason == "expired"
    assert book.series() == {"span.build.ms": [2500.0]}
    assert book.stats()["expired"] == 1


def test_ring_is_bounded_and_columns_align() -> None:
    ring = Ring(3)
    for i in range(5):
        ring.add(float(i), {"a": float(i)} if i % 2 == 0 else {"b": float(i)})
    cols = ring.columns()
    assert cols["t"] == [2.0, 3.0, 4.0]
    assert cols["series"] == {"a": [2.0, None, 4.0], "b": [None, 3.0, None]}
    assert ring.columns(prefixes=("b",))["series"] == {"b": [None, 3.0, None]}
    assert ring.columns(since=3.0) == {"t": [4.0], "series": {"a": [4.0]}}
    assert ring.columns(limit=2)["t"] == [3.0, 4.0]
    assert ring.last() == (4.0, {"a": 4.0})
    assert ring.drop_oldest(0.5) == 1
    assert len(ring) == 2


def test_ring_columns_are_what_the_samples_say() -> None:
    """Columns built sample by sample (metrics coming and going, values not finite) equal
    the same samples put in columns at once, as read back from SQLite."""
    samples = [(float(t), {f"m{k}": (math.nan if (t + k) % 7 == 0 else float(t * k))
                           for k in range(t % 5, 6)}) for t in range(40)]
    ring = Ring(25).extend(samples)
    window = samples[-25:]
    expected = {"t": [t for t, _ in window],
                "series": {name: [None if v is None or math.isnan(v) else v
                                  for v in (vals.get(name) for _t, vals in window)]
                           for name in sorted({n for _t, vals in window for n in vals})}}
    assert ring.columns() == expected
    assert columns(window) == expected
    assert ring.memory_bytes() > 0
    assert ring.series(since=38.0) == {f"m{k}": [39.0 * k] for k in range(4, 6)}


def test_summarize_skips_missing_and_infinite_values_and_splits_even_medians() -> None:
    s = summary.summarize([4.0, None, math.nan, 1.0, math.inf, 3.0, 2.0])
    assert s["n"] == 4 and s["median"] == 2.5 and s["min"] == 1.0 and s["max"] == 4.0
    assert s["mean"] == pytest.approx(2.5) and s["p95"] == 4.0
    assert s["stdev"] == pytest.approx(math.sqrt(5 / 3))


def test_window_keeps_the_samples_after_since_by_metric() -> None:
    samples = [(1.0, {"a": 1.0}), (2.0, {"a": 2.0, "b": 5.0}), (3.0, {"b": 6.0})]
    assert summary.window(samples, 1.0) == {"a": [2.0], "b": [5.0, 6.0]}
    assert summary.window(samples, 3.0) == {}
