"""The dashboard in a real headless Chromium (Debian's `chromium`, driven by Playwright).

The daemon first does some work in every plugin (a test run of the bundled suite, a
short space validation, an evolve run, a workspace simulation and cache traffic); then
every chart on the page must have drawn data points — the test-run makespans, the
space figure and the Pareto front included — the page must log no console error, and
stopping the daemon must show the "daemon unreachable" state. Screenshots go to the
test's tmp dir (and to `$CATALYTIC_DASHBOARD_SCREENSHOT` when set: that is how
docs/dashboard.png is made). Skipped, loudly, when chromium is not installed.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import pytest
from monitor_helpers import FAST, sample_after

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
PLUGINS = ["monitor", "testrun", "workspace", "prd", "evolve", "space"]
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "testrun" / "sample_suite"
PANEL_STATES = """Array.from(document.querySelectorAll('.panel')).map(p => ({
     id: p.id, state: p.dataset.state,
     title: p.querySelector('h2').textContent,
     empty: p.querySelector('.empty').hidden ? '' : p.querySelector('.empty').textContent,
     canvas: !!p.querySelector('canvas'),
     image: (p.querySelector('img.figure') || {}).naturalWidth || 0,
     points: (window.catalyticDashboard.charts[p.id.slice(6)] || {}).points || 0
   }))"""
WORKED = ["testrun", "space", "evolve", "executor"]
"""Panels that must draw once the daemon has done the work below."""


def do_some_work(c: Any, root: Path) -> None:
    """A little of everything, so every plugin panel has figures to draw."""
    for _ in range(2):  # the second run is packed from the first one's durations
        c.call("testrun.run", {"root": str(root), "python": sys.executable, "workers": 2},
               timeout=120)
    c.call("space.validate", {"preset": "quick", "sizes": [64, 256, 1024],
                              "cm_max_work": 20_000}, timeout=120)
    c.call("evolve.run", {"problem": "zdt1", "generations": 15, "population": 24, "seed": 3},
           timeout=120)
    c.call("workspace.simulate", {"keys": [(i * 7919) % 97 for i in range(3000)],
                                  "capacities": [8, 32]}, timeout=120)
    for i in range(40):
        c.call("workspace.put", data=f"value {i}".encode(), key=f"k{i % 25}")
        c.call("workspace.get", key=f"k{(i * 3) % 30}")


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
    root = tmp_path / "suite"
    shutil.copytree(SAMPLE, root)
    d = make_daemon({**FAST, "daemon": {"plugins": PLUGINS},
                     "monitor": {**FAST["monitor"], "interval_s": 0.25},
                     "testrun": {"allowed_roots": [str(tmp_path)], "keep_warm_s": 0.0}})
    with d.client() as c:
        url = c.call("system.http_token")["dashboard"]  # the page's link carries the token
        do_some_work(c, root)
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
            # The plugin panels load their figures asynchronously: wait for them (bounded).
            try:
                page.wait_for_function(
                    "ids => ids.every(id => { const p = document.getElementById('panel-' + id);"
                    " return p && p.dataset.state === 'drawn'; })",
                    arg=[w for w in WORKED if w == "executor" or w in running], timeout=30000)
            except sync_api.TimeoutError:
                raise AssertionError(f"plugin panels not drawn in 30 s: "
                                     f"{page.evaluate(PANEL_STATES)} {problems}") from None
            panels: list[dict[str, Any]] = page.evaluate(PANEL_STATES)
            page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
            if os.environ.get("CATALYTIC_DASHBOARD_SCREENSHOT"):
                shutil.copy(tmp_path / "dashboard.png",
                            os.environ["CATALYTIC_DASHBOARD_SCREENSHOT"])
            assert not problems, problems
            ids = {p["id"] for p in panels}
            assert {"panel-rate", "panel-latency", "panel-lag", "panel-memory",
                    "panel-cpu", "panel-executor"} <= ids
            by_id = {p["id"].removeprefix("panel-"): p for p in panels}
            for name in WORKED:
                if name != "executor" and name not in running:
                    continue
                p = by_id[name]
                assert p["state"] == "drawn", p
                if name == "space":  # the plugin's own SVG, loaded and laid out
                    assert p["image"] > 0, p
                else:
                    assert p["canvas"] and p["points"] > 0, p
            if "testrun" in running:  # two runs: each one's makespan and lower bound
                assert by_id["testrun"]["points"] == 4
                assert "efficiency" in page.inner_text("#panel-testrun .hint")
            if "evolve" in running:
                assert "generation 15" in page.inner_text("#panel-evolve .hint")
            assert "local pool" in page.inner_text("#panel-executor .hint").lower()
            for p in panels:
                plugin = p["id"].removeprefix("panel-")
                if p["state"] == "empty":
                    # Only a plugin panel may be empty, and only when that plugin is absent
                    # or has published nothing; its message says so.
                    assert plugin in PLUGINS, p
                    assert plugin not in running or "no figures" in p["empty"], p
                    assert "plugin" in p["empty"], p
                    continue
                if plugin == "space":
                    continue  # an image, checked above
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
