"""The HTTP face: dashboard page, static files, /api/monitor/..., bad input, and its guard
(the Host check and the token /api/* needs; issue 15 finding 6)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

from monitor_helpers import FAST, http_get, sample_after

TOKEN: dict[str, str] = {}
"""Authorization header for /api, per test (set from `system.http_token`)."""


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, Any]:
    request = urllib.request.Request(url, headers={**TOKEN, **(headers or {})})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers


def http_json(url: str) -> tuple[int, Any]:
    status, body, _ = get(url)
    return status, json.loads(body)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kw: Any) -> None:
        return None


def _token(c: Any) -> dict[str, Any]:
    answer = c.call("system.http_token")
    TOKEN.clear()
    TOKEN["Authorization"] = f"Bearer {answer['token']}"
    return answer


def test_pages_api_and_bad_requests(make_daemon) -> None:
    d = make_daemon(FAST)
    with d.client() as c:
        url = c.call("system.hello")["http"]
        _token(c)
        sample_after(c, time.time())
    status, body, ctype = http_get(url)
    assert status == 200 and ctype.startswith("text/html")
    assert b"uPlot.iife.min.js" in body and b"unreachable" in body
    for name in ("uPlot.iife.min.js", "dashboard.js", "panels.js", "dashboard.css",
                 "uPlot.LICENSE.txt"):
        status, body, _ = http_get(url + "monitor/static/" + name)
        assert status == 200 and body, name
    assert http_get(url + "monitor/static/..%2Fplugin.py")[0] == 404
    assert http_get(url + "monitor/static/nope.js")[0] == 404
    assert http_get(url + "no/such/path")[0] == 404
    status, cur = http_json(url + "api/monitor/current")
    assert status == 200 and cur["sample"]["values"]["process.rss_bytes"] > 0
    assert cur["health"]["ok"] is True
    status, hist = http_json(url + "api/monitor/history?prefix=process.rss")
    assert status == 200 and hist["t"]
    assert set(hist["series"]) == {"process.rss_bytes", "process.rss_peak_bytes",
                                   "process.rss_avg_bytes"}
    assert all(len(v) == len(hist["t"]) for v in hist["series"].values())
    assert get(url + "api/monitor/history?since=yesterday")[0] == 400
    assert get(url + "api/monitor/history?limit=0")[0] == 400
    status, health = http_json(url + "api/monitor/health")
    assert status == 200 and health == {"ok": True, "problems": []}
    status, err = http_json(url + "api/monitor/report?baseline=missing")
    assert status == 404 and err["code"] == -33001
    status, report = http_json(url + "api/monitor/report")
    assert status == 200 and "process.rss_bytes" in report


def test_lag_above_threshold_is_a_health_problem(make_daemon) -> None:
    # A 1 ms threshold with a 20 ms probe: a profile run (cProfile slows the loop) or the
    # sampler itself makes some callback late by more than 1 ms within a few seconds.
    d = make_daemon({**FAST, "monitor": {**FAST["monitor"], "lag_warn_ms": 1.0}})
    with d.client() as c:
        url = c.call("system.hello")["http"]
        _token(c)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            c.call("monitor.profile", seconds=0.3)
            status, health = http_json(url + "api/monitor/health")
            if status == 503:
                break
        assert status == 503, "loop lag never exceeded 1 ms"
        assert "event-loop lag" in health["problems"][0]
        stats = c.call("system.stats")["plugins"]["monitor"]
        assert stats["lag_problems"] >= 1


def test_port_in_use_runs_without_http_or_refuses_to_start(make_daemon) -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        d = make_daemon({**FAST, "http": {"port": port, "required": False}})
        with d.client() as c:
            assert c.call("system.hello")["http"] is None
            assert c.call("system.ping") == "pong"
        assert f"127.0.0.1:{port}" in d.log() and "without HTTP" in d.log()
        strict = make_daemon({**FAST, "http": {"port": port, "required": True}}, start=False)
        try:
            strict.start(timeout=20)
        except RuntimeError:
            pass  # refused before its socket appeared
        assert strict.wait_exit(20) != 0, "the daemon must not run with http.required and " \
                                          "the port taken"
        assert f"127.0.0.1:{port}" in strict.log() and "in use" in strict.log()


def test_oversized_and_wrong_method_requests_get_clear_answers(make_daemon) -> None:
    d = make_daemon(FAST)
    with d.client() as c:
        url = c.call("system.hello")["http"]
        _token(c)
    request = urllib.request.Request(url + "api/monitor/history", data=b"x" * (4 << 20),
                                     method="POST", headers=TOKEN)
    try:
        urllib.request.urlopen(request, timeout=10)
    except urllib.error.HTTPError as exc:
        assert exc.code in (405, 413), exc.code
    except (ConnectionError, urllib.error.URLError):
        pass  # the server may close the connection on a body it will not read
    else:
        raise AssertionError("a POST to a GET route was accepted")
    assert get(url + "api/monitor/health")[0] == 200, "the server carries on"


def test_host_check_and_token(make_daemon) -> None:
    """Finding 6: a page on another origin (DNS rebinding) gets 421; /api/* needs the
    daemon's token (header, or the cookie the dashboard link sets); /metrics and /healthz
    stay open on loopback."""
    d = make_daemon(FAST)
    with d.client() as c:
        url = c.call("system.hello")["http"]
        answer = c.call("system.http_token")
    TOKEN.clear()
    port = url.rstrip("/").rsplit(":", 1)[1]
    for host in ("evil.example:" + port, "127.0.0.1:1", "localhost", "127.0.0.1.nip.io:" + port):
        for path in ("api/stats", "metrics", "healthz", ""):
            status, _, _ = get(url + path, {"Host": host})
            assert status == 421, (host, path, status)
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"):
        assert get(url + "metrics", {"Host": host})[0] == 200, host
    assert get(url + "healthz")[0] == 200
    status, body, _ = get(url + "api/stats")
    assert status == 401 and b"system.http_token" in body
    assert get(url + "api/stats", {"Authorization": "Bearer nope"})[0] == 401
    status, body, _ = get(url + "api/stats", {"Authorization": f"Bearer {answer['token']}"})
    assert status == 200 and json.loads(body)["pid"] == d.pid
    # the dashboard link: the token is traded for a cookie and leaves the address
    assert answer["dashboard"] == f"{url}?token={answer['token']}"
    assert get(url + "?token=wrong")[0] == 401
    status, _, headers = get(answer["dashboard"])
    assert status == 303 and headers["Location"] == "/"
    cookie = headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    pair = cookie.split(";", 1)[0]
    status, body, _ = get(url + "api/monitor/current", {"Cookie": pair})
    assert status == 200 and "sample" in json.loads(body)
