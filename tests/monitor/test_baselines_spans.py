"""Baselines and their improvement signs, spans, persistence across a restart, profiling."""

from __future__ import annotations

import pstats
import time

import pytest
from monitor_helpers import FAST, sample_after

from catalytic.client.errors import RpcError


def test_baseline_improvement_signs(make_daemon) -> None:
    d = make_daemon(FAST)
    with d.client() as c:
        for _ in range(5):
            c.call("monitor.measure", name="step", seconds=0.200)
        saved = c.call("monitor.baseline.save", name="slow")
        assert saved["name"] == "slow" and saved["metrics"] >= 1
        # The span window keeps the newest 1024 durations: after 1100 fast ones the
        # current mean is exactly 50 ms, a 75 % improvement on 200 ms (lower is better).
        for _ in range(1100):
            c.call("monitor.measure", name="step", seconds=0.050)
        entry = c.call("monitor.report", baseline="slow")["span.step.ms"]
        assert entry["mean"] == pytest.approx(50.0)
        assert entry["median"] == pytest.approx(50.0)
        assert entry["stdev"] == pytest.approx(0.0)
        assert entry["p95"] == pytest.approx(50.0)
        assert entry["direction"] == "lower_is_better"
        assert entry["improvement_vs_baseline"] == pytest.approx(0.75)
        c.call("monitor.baseline.save", name="fast")
        for _ in range(1100):
            c.call("monitor.measure", name="step", seconds=0.100)
        worse = c.call("monitor.report", baseline="fast")["span.step.ms"]
        assert worse["improvement_vs_baseline"] == pytest.approx(-1.0)
        assert c.call("monitor.report")["span.step.ms"]["improvement_vs_baseline"] is None
        with pytest.raises(RpcError) as err:
            c.call("monitor.report", baseline="no-such-baseline")
        assert err.value.code == -33001 and "no-such-baseline" in err.value.message
        assert {b["name"] for b in c.call("monitor.baseline.list")} == {"slow", "fast"}


def test_spans_errors_and_durations(make_daemon) -> None:
    d = make_daemon(FAST)
    with d.client() as c:
        span = c.call("monitor.span.start", name="compile")["id"]
        time.sleep(0.05)
        ended = c.call("monitor.span.end", id=span)
        assert ended["name"] == "compile" and 0.04 < ended["seconds"] < 5
        with pytest.raises(RpcError) as err:
            c.call("monitor.span.end", id=span)
        assert err.value.code == -33004 and "already ended" in err.value.message
        with pytest.raises(RpcError) as err:
            c.call("monitor.span.end", id="s424242")
        assert err.value.code == -33002
        with pytest.raises(RpcError) as err:
            c.call("monitor.measure", name="x", seconds=-1.0)
        assert err.value.code == -32602
        open_span = c.call("monitor.span.start", name="left-open")["id"]
        assert open_span != span
        assert c.call("system.stats")["plugins"]["monitor"]["spans"]["open"] == 1


def test_history_spans_and_baselines_survive_restart(make_daemon) -> None:
    d = make_daemon(FAST)
    with d.client() as c:
        first = sample_after(c, 0.0)
        assert first
        c.call("monitor.measure", name="deploy", seconds=1.5)
        c.call("monitor.baseline.save", name="before")
        time.sleep(0.8)
        before = c.call("monitor.history", limit=100000)["t"]
    d.stop()
    d.start()
    with d.client() as c:
        after = c.call("monitor.history", limit=100000)["t"]
        assert before[0] in after, "samples taken before the restart are in the history"
        assert c.call("monitor.report")["span.deploy.ms"]["mean"] == pytest.approx(1500.0)
        assert [b["name"] for b in c.call("monitor.baseline.list")] == ["before"]
        stored = c.call("monitor.history", since=1.0, limit=100000)["t"]
        assert set(before) <= set(stored)


def test_profile_returns_hottest_functions_and_prof_file(make_daemon, tmp_path) -> None:
    d = make_daemon(FAST)
    with d.client() as c:
        result = c.call("monitor.profile", seconds=0.5, top=10, prof=True)
        assert 0.45 <= result["seconds"] < 5
        assert result["by_cumulative"] and result["by_own"]
        cum = [r["cumulative_s"] for r in result["by_cumulative"]]
        assert cum == sorted(cum, reverse=True)
        names = {r["function"] for r in result["by_cumulative"]}
        assert "sample_once" in names, "the monitor's own sampler ran on the loop meanwhile"
        path = tmp_path / "loop.prof"
        path.write_bytes(result["prof"])
        assert pstats.Stats(str(path)).total_calls > 0  # type: ignore[attr-defined]
        only = c.call("monitor.profile", seconds=0.3, plugin="monitor")
        assert all("plugins/monitor/" in r["file"] for r in only["by_own"])
        with pytest.raises(RpcError) as err:
            c.call("monitor.profile", seconds=10_000.0)
        assert err.value.code == -32602 and "profile_max_s" in err.value.message
