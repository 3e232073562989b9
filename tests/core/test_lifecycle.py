"""Lifecycle: graceful stop, grace expiry, one daemon per socket, stale sockets, reload,
bad config, failing plugins."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from catalytic.client import Cancelled, Client
from catalytic.client.errors import InvalidParams, MethodNotFound
from catalytic.config.paths import status_path

from daemon_process import DaemonProcess


def test_sigterm_lets_calls_in_flight_finish(core_daemon) -> None:
    result: dict = {}
    client = core_daemon.client()

    def slow_call() -> None:
        result["value"] = client.call("example.sleep", seconds=1.0)

    t = threading.Thread(target=slow_call)
    t.start()
    time.sleep(0.3)
    core_daemon.signal(signal.SIGTERM)
    t.join(20)
    assert result["value"] == 1.0
    assert core_daemon.wait_exit() == 0
    assert not core_daemon.socket.exists()
    assert not status_path(core_daemon.socket).exists()


def test_calls_past_the_grace_period_are_cancelled(make_daemon, example_plugin) -> None:
    d = make_daemon({"daemon": {"plugins": [example_plugin], "grace_seconds": 0.5}})
    errors: list[Exception] = []
    client = d.client()

    def slow_call() -> None:
        try:
            client.call("example.sleep", seconds=60)
        except Exception as exc:
            errors.append(exc)

    t = threading.Thread(target=slow_call)
    t.start()
    time.sleep(0.3)
    started = time.monotonic()
    d.signal(signal.SIGTERM)
    t.join(20)
    assert d.wait_exit() == 0
    assert time.monotonic() - started < 10
    assert len(errors) == 1 and isinstance(errors[0], Cancelled)


def test_second_daemon_refuses_and_names_the_first(core_daemon) -> None:
    second = subprocess.run(
        [sys.executable, "-m", "catalytic.daemon", "--config", str(core_daemon.config_path)],
        env=core_daemon.env, capture_output=True, text=True, timeout=60)
    assert second.returncode == 75
    assert f"pid {core_daemon.pid}" in second.stderr
    with core_daemon.client() as c:
        assert c.call("system.ping") == "pong"


def test_stale_socket_after_sigkill_is_replaced(core_daemon) -> None:
    core_daemon.kill()
    assert core_daemon.socket.exists()  # left behind by the crash
    core_daemon.start()
    with core_daemon.client() as c:
        assert c.call("system.ping") == "pong"
    assert "stale socket" in core_daemon.log()


def test_status_file_names_pid_socket_version(core_daemon) -> None:
    status = json.loads(status_path(core_daemon.socket).read_text())
    assert status["pid"] == core_daemon.pid
    assert status["socket"] == str(core_daemon.socket)
    assert status["version"]
    assert oct(status_path(core_daemon.socket).stat().st_mode & 0o777) == "0o600"


def test_sighup_reloads_config_without_dropping_connections(core_daemon) -> None:
    with core_daemon.client() as c:
        assert c.call("example.greet", who="a") == "hello, a"
        core_daemon.write_config({"example": {"greeting": "howdy"}})
        core_daemon.signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while c.call("example.greet", who="a") != "howdy, a":
            assert time.monotonic() < deadline, core_daemon.log()
            time.sleep(0.05)
        core_daemon.write_config({"example": {"greeting": 5}})
        with pytest.raises(Exception) as info:
            c.call("system.reload")
        assert "example.greeting = 5 (file " in str(info.value)
        assert "expected a string" in str(info.value)
        assert info.value.data["field"] == "example.greeting"
        assert c.call("example.greet", who="a") == "howdy, a"  # the old config stays


@pytest.mark.parametrize("config, needle", [
    ({"daemon": {"workers": "many"}}, "daemon.workers = 'many'"),
    ({"daemon": {"loop": "tokio"}}, "one of 'auto', 'uvloop', 'asyncio'"),
    ({"daemon": {"wokers": 2}}, "daemon.wokers = 2"),
    ({"nosuch": {"a": 1}}, "nosuch.a = 1"),
    ({"limits": {"max_inflight": 0}}, "limits.max_inflight = 0"),
])
def test_bad_config_stops_startup_naming_the_key(make_daemon, config, needle) -> None:
    d = make_daemon(config, start=False)
    with pytest.raises(RuntimeError):
        d.start(timeout=15)
    assert d.proc is not None and d.proc.returncode == 78
    assert needle in d.log()


def test_env_override_with_bad_value_is_named(make_daemon) -> None:
    d = make_daemon(env={"CATALYTIC_HTTP_PORT": "eighty"}, start=False)
    with pytest.raises(RuntimeError):
        d.start(timeout=15)
    assert "http.port = 'eighty' (env CATALYTIC_HTTP_PORT)" in d.log()


_QUICK_PATH = """
from catalytic.plugins.base import DEFER, InvalidParams, Param, Plugin, rpc

class Quickly(Plugin):
    name = 'quickly'

    @rpc('triple', Param('n', 'int'), quick='triple_now')
    async def triple(self, n):
        return {'n': 3 * n, 'path': 'task'}

    def triple_now(self, n):
        if n < 0:
            raise InvalidParams(f'n must not be negative, got {n}')
        return {'n': 3 * n, 'path': 'quick'} if n % 2 == 0 else DEFER

class BadQuick(Plugin):
    name = 'badquick'

    @rpc('x', quick='missing')
    async def x(self):
        return 1
"""


def _fake_distribution(root: Path) -> Path:
    """A distribution on PYTHONPATH with a plugin that fails to import and one that fails
    to start."""
    site = root / "site"
    info = site / "broken_plugins-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugins\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[catalytic.plugins]\nbroken = broken_import:Nope\nbadstart = bad_start:BadStart\n"
        "quickly = quick_path:Quickly\nbadquick = quick_path:BadQuick\n")
    (site / "quick_path.py").write_text(_QUICK_PATH)
    (site / "broken_import.py").write_text("raise ImportError('this plugin is broken')\n")
    (site / "bad_start.py").write_text(
        "from catalytic.plugins.base import Plugin\n"
        "class BadStart(Plugin):\n"
        "    name = 'badstart'\n"
        "    async def start(self, ctx):\n"
        "        raise RuntimeError('cannot open its store')\n")
    return site


def test_failing_plugins_are_reported_and_the_rest_serve(make_daemon, example_plugin,
                                                        tmp_path) -> None:
    site = _fake_distribution(tmp_path)
    env = {"PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    d = make_daemon({"daemon": {"plugins": ["broken", "badstart", example_plugin]}}, env=env)
    with d.client() as c:
        plugins = {p["name"]: p for p in c.call("system.plugins")}
        assert plugins["broken"]["state"] == "failed"
        assert "this plugin is broken" in plugins["broken"]["error"]
        assert plugins["badstart"]["state"] == "failed"
        assert "cannot open its store" in plugins["badstart"]["error"]
        assert plugins["example"]["state"] == "running"
        assert c.call("example.greet", who="x") == "hello, x"


def test_a_quick_method_answers_or_defers_to_its_handler(make_daemon, tmp_path) -> None:
    site = _fake_distribution(tmp_path)
    env = {"PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    d = make_daemon({"daemon": {"plugins": ["quickly", "badquick"]}}, env=env)
    with d.client() as c:
        assert c.call("quickly.triple", n=2) == {"n": 6, "path": "quick"}
        assert c.call("quickly.triple", n=3) == {"n": 9, "path": "task"}
        with pytest.raises(InvalidParams, match="must not be negative"):
            c.call("quickly.triple", n=-1)
        stats = c.call("system.stats")["methods"]["quickly.triple"]
        assert stats["calls"] == 3 and stats["errors"] == {"-32602": 1}
        plugins = {p["name"]: p for p in c.call("system.plugins")}
        assert plugins["badquick"]["state"] == "failed"
        assert "quick='missing' must name a plain" in plugins["badquick"]["error"]
        with pytest.raises(MethodNotFound):
            c.call("badquick.x")


def test_client_autostarts_the_daemon(tmp_path, example_plugin) -> None:
    d = DaemonProcess({"daemon": {"plugins": [example_plugin]}})
    old = dict(os.environ)
    os.environ.update({k: v for k, v in d.env.items()
                       if k.startswith(("CATALYTIC_", "XDG_"))})
    os.environ["CATALYTIC_DAEMON_PLUGINS"] = example_plugin
    os.environ["CATALYTIC_HTTP_ENABLED"] = "false"
    try:
        with Client(autostart=True) as c:
            assert c.call("system.ping") == "pong"
            pid = c.call("system.stats")["pid"]
            c.call("system.shutdown")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:  # our child: reap it
                break
            time.sleep(0.05)
        else:
            pytest.fail("auto-started daemon did not stop")
    finally:
        os.environ.clear()
        os.environ.update(old)
        d.cleanup()
