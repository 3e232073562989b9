"""sd_notify against a real datagram socket: READY, RELOADING, STOPPING, WATCHDOG."""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from notify_socket import NotifySocket

from catalytic.daemon import systemd

CORE = {"daemon": {"plugins": ["example"]}}


@pytest.fixture
def notify_sock(tmp_path: Path) -> Iterator[NotifySocket]:
    ns = NotifySocket(tmp_path / "notify")
    yield ns
    ns.close()


def test_ready_reload_stopping(make_daemon, notify_sock: NotifySocket) -> None:
    d = make_daemon(CORE, env={"NOTIFY_SOCKET": str(notify_sock.path)})
    ready = notify_sock.wait_for("READY", skip=())
    assert str(d.socket) in ready["STATUS"]
    assert ready.get("MAINPID") == str(d.pid)

    before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    d.signal(signal.SIGHUP)
    reloading = notify_sock.wait_for("RELOADING", skip=())
    after = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    # systemd compares MONOTONIC_USEC with its own clock to pair the reload with
    # the request: it must be CLOCK_MONOTONIC, taken while reloading.
    assert before <= int(reloading["MONOTONIC_USEC"]) <= after
    again = notify_sock.wait_for("READY", skip=())
    assert "reloaded" in again["STATUS"]
    with d.client() as c:  # reload dropped nothing: the daemon still serves
        assert c.call("system.ping", payload=7) == 7

    d.signal(signal.SIGTERM)
    stopping = notify_sock.wait_for("STOPPING", skip=())
    assert "SIGTERM" in stopping["STATUS"]
    assert d.wait_exit() == 0


def test_reload_through_rpc_notifies_too(make_daemon, notify_sock: NotifySocket) -> None:
    # system.reload is SIGHUP by RPC: the same RELOADING=1 / READY=1 pair.
    d = make_daemon(CORE, env={"NOTIFY_SOCKET": str(notify_sock.path)})
    notify_sock.wait_for("READY", skip=())
    with d.client() as c:
        assert c.call("system.reload")["reloaded"] is True
    notify_sock.wait_for("RELOADING", skip=())
    notify_sock.wait_for("READY", skip=())


def test_watchdog_pings(make_daemon, notify_sock: NotifySocket) -> None:
    # WATCHDOG_USEC = 0.2 s: pings every 0.1 s. WATCHDOG_PID unset means "this process".
    make_daemon(CORE, env={"NOTIFY_SOCKET": str(notify_sock.path), "WATCHDOG_USEC": "200000"})
    notify_sock.wait_for("READY")
    pings = 0
    deadline = time.monotonic() + 20
    while pings < 3 and time.monotonic() < deadline:
        msg = notify_sock.receive(5)
        assert msg is not None, "the watchdog pings stopped"
        pings += msg.get("WATCHDOG") == "1"
    assert pings >= 3


def test_no_watchdog_for_another_pid(make_daemon, notify_sock: NotifySocket) -> None:
    # WATCHDOG_PID names another process (e.g. a wrapper): the daemon must not ping.
    make_daemon(CORE, env={"NOTIFY_SOCKET": str(notify_sock.path), "WATCHDOG_USEC": "200000",
                           "WATCHDOG_PID": "1"})
    notify_sock.wait_for("READY", skip=())
    assert notify_sock.receive(1.0) is None


def test_notify_helpers_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert systemd.notify("READY=1") is False  # not under systemd: a no-op

    # The abstract namespace ("@name") is what systemd itself uses for NOTIFY_SOCKET.
    name = f"catalytic-test-{tmp_path.name}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind("\0" + name)
        server.settimeout(5)
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        assert systemd.notify("STATUS=hello", "READY=1") is True
        assert server.recv(4096) == b"STATUS=hello\nREADY=1"

    # A socket that went away is not an error worth crashing for.
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone"))
    assert systemd.notify("READY=1") is False


def test_watchdog_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    assert systemd.watchdog_interval() is None
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    assert systemd.watchdog_interval() == 15.0
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert systemd.watchdog_interval() == 15.0
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid() + 1))
    assert systemd.watchdog_interval() is None
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    monkeypatch.setenv("WATCHDOG_USEC", "soon")
    assert systemd.watchdog_interval() is None


def test_bound_path(tmp_path: Path) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.bind(str(tmp_path / "s.sock"))
        assert systemd.bound_path(s) == tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.bind(f"\0catalytic-abstract-{tmp_path.name}")
        assert systemd.bound_path(s) is None
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        assert systemd.bound_path(s) is None
