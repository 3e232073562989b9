"""The dashboard in a real headless Chromium (Debian's `chromium`, driven by Playwright).

Every chart on the page must have drawn data points, the page must log no console
error, and stopping the daemon must show the "daemon unreachable" state. Screenshots
go to the test's tmp dir. Skipped, loudly, when chromium is not installed.
"""

from __future__ import annotations

import shutil
import time
import warnings
from pathlib import Path
from typing import Any

import pytest
from monitor_helpers import FAST, sample_after

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
PLUGINS = ["monitor", "testrun", "workspace", "prd", "evolve", "space"]


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        reason = ("CHROMIUM IS NOT INSTALLED: the dashboard browser test is SKIPPED. "
                  "Install Debian's chromium (`make browser` or `apt-get install chromium`).")
        warnings.warn(reason, stacklevel=2)
        pytest.skip(reason)
    return exe


@pytest.mark.browser
def test_dashboard_draws_every_chart_without_console_errors(make_daemon, tmp_path) -> None:
    exe = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    d = make_daemon({**FAST, "daemon": {"plugins": PLUGINS},
                     "monitor": {**FAST["monitor"], "interval_s": 0.25}})
    with d.client() as c:
        url = c.call("system.hello")["http"]
        running = {p["name"] for p in c.call("system.plugins") if p["state"] == "running"}
        for _ in range(200):
            c.call("system.ping")
        sample_after(c, time.time())
    problems: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
                    if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.goto(url)
            page.wait_for_function("window.catalyticDashboard && "
                                   "window.catalyticDashboard.updates >= 3", timeout=30000)
            # Pings after the page is live, so the request-rate chart has non-zero points.
            with d.client() as c:
                for _ in range(300):
                    c.call("system.ping")
            page.wait_for_function("window.catalyticDashboard.updates >= 6", timeout=30000)
            panels: list[dict[str, Any]] = page.evaluate(
                """Array.from(document.querySelectorAll('.panel')).map(p => ({
                     id: p.id, state: p.dataset.state,
                     title: p.querySelector('h2').textContent,
                     empty: p.querySelector('.empty').hidden ? '' :
                            p.querySelector('.empty').textContent,
                     canvas: !!p.querySelector('canvas'),
                     points: (window.catalyticDashboard.charts[p.id.slice(6)] || {}).points || 0
                   }))""")
            page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
            assert not problems, problems
            ids = {p["id"] for p in panels}
            assert {"panel-rate", "panel-latency", "panel-lag", "panel-memory",
                    "panel-cpu"} <= ids
            for p in panels:
                plugin = p["id"].removeprefix("panel-")
                if p["state"] == "empty":
                    # Only a plugin panel may be empty, and only when that plugin is absent
                    # or has published nothing; its message says so.
                    assert plugin in PLUGINS, p
                    assert plugin not in running or "no figures" in p["empty"], p
                    assert "plugin" in p["empty"], p
                    continue
                assert p["state"] == "drawn" and p["canvas"] and p["points"] > 0, p
            rate_max = page.evaluate("""Math.max(...window.catalyticDashboard.charts.rate
                                        .plot.data.slice(1).flat().filter(v => v !== null))""")
            assert rate_max > 0, "the request-rate chart shows the pings"
            # Keyboard: panels are focusable and 'p' pauses updates.
            page.keyboard.press("Tab")
            page.keyboard.press("p")
            assert page.get_attribute("#pause", "aria-pressed") == "true"
            page.keyboard.press("p")
            d.stop()
            page.wait_for_function("window.catalyticDashboard.reachable === false",
                                   timeout=30000)
            assert page.is_visible("#unreachable")
            assert "unreachable" in page.inner_text("#status")
            page.screenshot(path=str(tmp_path / "unreachable.png"))
        finally:
            browser.close()
    assert Path(tmp_path / "dashboard.png").stat().st_size > 10_000
