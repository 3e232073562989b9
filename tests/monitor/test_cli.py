"""The monitor's CLI verbs against a real daemon: report, baseline, profile, top, dashboard."""

from __future__ import annotations

import json
import pstats
import time

import pytest
from monitor_helpers import FAST

from catalytic.client.cli import main


def _run(capsys: pytest.CaptureFixture[str], sock: str, *argv: str) -> tuple[int, str]:
    code = main(["--socket", sock, "--no-autostart", *argv])
    return code, capsys.readouterr().out


def test_cli_verbs(make_daemon, capsys, tmp_path) -> None:
    d = make_daemon(FAST)
    sock = str(d.socket)
    with d.client() as c:
        url = c.call("system.hello")["http"]
        for _ in range(20):
            c.call("system.ping")
        # wait (bounded) until the sampler has recorded the pings: the machine may be busy
        deadline = time.monotonic() + 20
        while not any("system.ping" in k for k in c.call("monitor.report")):
            assert time.monotonic() < deadline, "the monitor never sampled system.ping"
            time.sleep(0.1)
    code, out = _run(capsys, sock, "--json", "dashboard", "--no-open")
    answer = json.loads(out)
    assert code == 0 and answer["opened"] is False
    assert answer["url"].startswith(url + "?token=")  # the page trades the token for a cookie
    code, out = _run(capsys, sock, "monitor", "baseline", "save", "cli")
    assert code == 0 and "baseline 'cli' saved" in out
    code, out = _run(capsys, sock, "--json", "monitor", "report", "--baseline", "cli",
                     "--match", "system.ping")
    report = json.loads(out)
    assert code == 0 and report and all("system.ping" in k for k in report)
    assert "improvement_vs_baseline" in report["method.system.ping.p95_ms"]
    code, out = _run(capsys, sock, "monitor", "report", "--baseline", "missing")
    assert code == 1
    prof = tmp_path / "loop.prof"
    code, out = _run(capsys, sock, "monitor", "profile", "0.3", "-o", str(prof), "--top", "3")
    assert code == 0 and "hottest by cumulative" in out and prof.exists()
    assert pstats.Stats(str(prof)).total_calls > 0  # type: ignore[attr-defined]
    code, out = _run(capsys, sock, "top", "--iterations", "2", "-n", "0.2")
    assert code == 0 and "system.ping" in out and "req/s" in out
