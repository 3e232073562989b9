"""The dashboard shows the Dask cluster: workers, tasks in flight and the Dask dashboard link.

A real `dask scheduler` + two `dask worker`s on 127.0.0.1, a daemon with the monitor on
`daemon.executor = "dask"`, and the page in headless Chromium. Skipped when chromium
or Playwright is missing (the browser test in tests/monitor says so loudly).
"""

from __future__ import annotations

import json
import shutil
import urllib.request
from typing import Any

import pytest

pytest.importorskip("distributed", reason="the dask extra is not installed")

from dask_cluster import DaskCluster

from daemon_process import DaemonProcess

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


@pytest.mark.browser
def test_dashboard_shows_the_cluster(cluster: DaskCluster, tmp_path: Any) -> None:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip("chromium is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    d = DaemonProcess({"daemon": {"plugins": ["monitor", "space"], "executor": "dask",
                                  "dask_address": cluster.address},
                       "monitor": {"interval_s": 0.25, "refresh_s": 1.0}}).start()
    try:
        with d.client() as c:
            url = c.call("system.hello")["http"]
            token = c.call("system.http_token")
            c.call("space.validate", {"preset": "quick", "sizes": [64, 128, 256],
                                      "cm_max_work": 20_000}, timeout=120)
            executor = c.call("system.stats")["executor"]
        with urllib.request.urlopen(urllib.request.Request(
                url + "api/monitor/current",
                headers={"Authorization": f"Bearer {token['token']}"}), timeout=10) as r:
            current = json.loads(r.read())
        assert current["executor"]["backend"] == "dask"
        assert current["executor"]["cluster_workers"] == 2
        problems: list[str] = []
        with sync_api.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=exe, args=ARGS)
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.on("console", lambda m: problems.append(m.text)
                        if m.type == "error" else None)
                page.on("pageerror", lambda e: problems.append(str(e)))
                page.goto(token["dashboard"])
                page.wait_for_function(
                    "() => { const p = document.getElementById('panel-executor');"
                    " return p && p.dataset.state === 'drawn' &&"
                    " window.catalyticDashboard.updates >= 3; }", timeout=30000)
                title = page.inner_text("#panel-executor h2")
                hint = page.inner_text("#panel-executor .hint")
                points = page.evaluate("window.catalyticDashboard.charts.executor.points")
                links = page.eval_on_selector_all("#panel-executor .hint a",
                                                  "els => els.map(a => a.href)")
                page.screenshot(path=str(tmp_path / "cluster.png"), full_page=True)
            finally:
                browser.close()
        assert not problems, problems
        assert title == "Executor: Dask cluster"
        assert cluster.address in hint and "2 workers" in hint, hint
        assert points > 0
        if executor["dashboard"]:  # the scheduler serves one when bokeh is installed
            assert links == [executor["dashboard"]]
        else:
            assert links == []
    finally:
        d.cleanup()
