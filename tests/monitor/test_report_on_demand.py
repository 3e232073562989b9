"""`monitor.report` right after start samples on demand instead of answering an empty
map (the first periodic sample is an interval away)."""

from __future__ import annotations

from typing import Any


def test_report_right_after_start_is_not_empty(make_daemon: Any) -> None:
    d = make_daemon({"daemon": {"plugins": ["monitor"]}, "monitor": {"interval_s": 3600.0}})
    with d.client() as c:
        report = c.call("monitor.report")
        assert report, "a report before the first periodic sample"
        assert any(name.startswith("process.") or "rss" in name for name in report), \
            sorted(report)[:10]
        saved = c.call("monitor.baseline.save", name="at-start")
        assert saved["metrics"] > 0
