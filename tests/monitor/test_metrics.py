"""Metric values after known calls, over a real daemon: RPC history and /metrics."""

from __future__ import annotations

import time

import pytest
from monitor_helpers import FAST, http_get, sample_after
from prometheus_client.parser import text_string_to_metric_families

from catalytic.client.errors import RpcError

PINGS = 57
BAD_ENDS = 3


def test_method_figures_after_known_calls(make_daemon) -> None:
    d = make_daemon(FAST)
    with d.client() as c:
        for _ in range(PINGS):
            c.call("system.ping")
        for i in range(BAD_ENDS):
            with pytest.raises(RpcError) as err:
                c.call("monitor.span.end", id=f"nope{i}")
            assert err.value.code == -33002
        values = sample_after(c, time.time())
        assert values["method.system.ping.calls"] == PINGS
        assert values["method.system.ping.errors"] == 0
        assert values["method.monitor.span.end.errors"] == BAD_ENDS
        assert values["method.monitor.span.end.calls"] == BAD_ENDS
        assert values["method.monitor.span.end.errors_by_code.-33002"] == BAD_ENDS
        p50, p95, p99 = (values[f"method.system.ping.{q}_ms"] for q in ("p50", "p95", "p99"))
        assert 0 < p50 <= p95 <= p99 <= values["method.system.ping.max_ms"]
        assert values["process.rss_bytes"] > 10 << 20
        assert values["process.rss_peak_bytes"] >= values["process.rss_bytes"]
        assert values["process.threads"] >= 1
        assert values["process.open_fds"] >= 3
        assert values["loop.lag_max_ms"] >= values["loop.lag_mean_ms"] >= 0
        assert "host.cpu_core_0_percent" in values
        assert values["governor.budget"] > 0
        report = c.call("monitor.report")
        assert report["method.system.ping.calls"]["direction"] == "neutral"
        assert report["loop.lag_max_ms"]["direction"] == "lower_is_better"
        url = c.call("system.hello")["http"]
    status, body, ctype = http_get(url + "metrics")
    assert status == 200 and ctype.startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(body.decode())}
    calls = {s.labels["method"]: s.value for s in families["catalytic_requests"].samples
             if s.name == "catalytic_requests_total"}
    assert calls["system.ping"] == PINGS
    errors = {(s.labels["method"], s.labels["code"]): s.value
              for s in families["catalytic_request_errors"].samples
              if s.name == "catalytic_request_errors_total"}
    assert errors[("monitor.span.end", "-33002")] == BAD_ENDS
    rss = families["catalytic_monitor_rss_bytes"].samples[0].value
    assert rss > 10 << 20
    lag = {s.labels["stat"] for s in families["catalytic_monitor_loop_lag_seconds"].samples}
    assert lag == {"max", "mean"}
    maxlat = {s.labels["method"]: s.value for s in
              families["catalytic_monitor_request_latency_max_seconds"].samples}
    assert maxlat["system.ping"] > 0
    assert families["catalytic_monitor_samples"].samples[0].value >= 1
    budget = families["catalytic_monitor_governor_budget_bytes"].samples[0].value
    assert budget == values["governor.budget"] > 0
    assert families["catalytic_monitor_governor_shrinks"].samples[0].value >= 0


def test_plugin_stats_are_collected(make_daemon) -> None:
    d = make_daemon({**FAST, "daemon": {"plugins": ["monitor", "testrun"]}})
    with d.client() as c:
        if "testrun" not in c.call("system.hello")["plugins"]:
            pytest.skip("the testrun plugin is not running, so there is no second plugin")
        values = sample_after(c, time.time())
        assert values["plugin.testrun.active_runs"] == 0
        assert "plugin.testrun.tests_known" in values
        url = c.call("system.hello")["http"]
    _, body, _ = http_get(url + "metrics")
    stats = [s for f in text_string_to_metric_families(body.decode())
             if f.name == "catalytic_monitor_plugin_stat" for s in f.samples]
    assert {"plugin": "testrun", "stat": "active_runs"} in [s.labels for s in stats]


def test_report_samples_on_demand_right_after_start(make_daemon) -> None:
    # an interval far longer than the test: any sample in the report was taken for it
    d = make_daemon({"daemon": {"plugins": ["monitor"]}, "monitor": {"interval_s": 3600.0}})
    with d.client() as c:
        report = c.call("monitor.report")
        assert report["process.rss_bytes"]["mean"] > 0
        assert "loop.lag_max_ms" in report
        assert c.call("system.stats")["plugins"]["monitor"]["samples"] == 1
        # a window with no sample in it (shorter than the interval) samples again
        time.sleep(0.05)
        again = c.call("monitor.report", window_s=0.01)
        assert again["process.rss_bytes"]["mean"] > 0
        saved = c.call("monitor.baseline.save", name="first", window_s=0.01)
        assert saved
