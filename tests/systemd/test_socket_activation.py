"""Socket activation through Debian's `systemd-socket-activate`: the daemon serves fd 3.

`systemd-socket-activate -l PATH CMD` listens on PATH itself, and on the first
connection execs CMD with the socket as fd 3 and LISTEN_FDS=1 / LISTEN_PID set,
exactly as a .socket unit does. Only the variables named with -E reach CMD.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from notify_socket import NotifySocket

from catalytic.client import Client
from catalytic.config.paths import status_path

ACTIVATE = shutil.which("systemd-socket-activate")
PASSED_ENV = ("CATALYTIC_SOCKET", "XDG_STATE_HOME", "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR",
              "PYTHONUNBUFFERED", "NOTIFY_SOCKET")

pytestmark = pytest.mark.skipif(
    ACTIVATE is None,
    reason="systemd-socket-activate is not installed (Debian: apt-get install systemd)")


def wait_for_path(path: Path, proc: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, f"systemd-socket-activate exited with {proc.returncode}"
        assert time.monotonic() < deadline, f"{path} did not appear"
        time.sleep(0.02)


def activate(d, tmp_path: Path) -> NotifySocket:
    """Start the daemon of `d` (a DaemonProcess) behind systemd-socket-activate."""
    notify = NotifySocket(tmp_path / "notify")
    d.env["NOTIFY_SOCKET"] = str(notify.path)
    d.socket.parent.mkdir(mode=0o700, parents=True)
    assert ACTIVATE is not None
    cmd = [ACTIVATE, "-l", str(d.socket),
           *[f"-E{name}={d.env[name]}" for name in PASSED_ENV],
           sys.executable, "-m", "catalytic.daemon", "--config", str(d.config_path)]
    with d.log_path.open("ab") as log:
        d.proc = subprocess.Popen(cmd, env=d.env, stdout=log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, start_new_session=True)
    wait_for_path(d.socket, d.proc)
    return notify


def test_daemon_serves_the_inherited_socket(make_daemon, tmp_path: Path) -> None:
    d = make_daemon({"daemon": {"plugins": ["example"]}}, start=False)
    notify = activate(d, tmp_path)
    try:
        inode = d.socket.stat().st_ino
        # Nothing runs yet but the listener; the first connection starts the daemon.
        assert notify.receive(0.3) is None
        with Client(d.socket, timeout=30) as c:
            assert c.call("system.ping", payload=b"\x01\x02") == b"\x01\x02"
            hello = c.call("system.hello")
        # systemd-socket-activate execs in place, so LISTEN_PID was this very pid.
        assert hello["pid"] == d.pid, d.log()
        ready = notify.wait_for("READY")
        assert ready["MAINPID"] == str(d.pid)
        # The daemon used fd 3 and bound nothing: same socket inode, no bind lock file.
        assert d.socket.stat().st_ino == inode
        assert not d.socket.with_name(d.socket.name + ".lock").exists()
        # A second client on the same socket is served by the same daemon.
        with Client(d.socket, timeout=30) as c2:
            assert c2.call("system.hello")["pid"] == d.pid

        d.signal(signal.SIGTERM)
        notify.wait_for("STOPPING")
        assert d.wait_exit() == 0, d.log()
        # The socket belongs to whoever passed it (systemd): the daemon leaves it.
        assert d.socket.exists()
        assert d.socket.stat().st_ino == inode
    finally:
        notify.close()


def test_activated_daemon_removes_its_status_file(make_daemon, tmp_path: Path) -> None:
    d = make_daemon({"daemon": {"plugins": ["example"]}}, start=False)
    notify = activate(d, tmp_path)
    try:
        with Client(d.socket, timeout=30) as c:
            c.call("system.ping")
        assert status_path(d.socket).exists()
        d.signal(signal.SIGTERM)
        assert d.wait_exit() == 0
        assert not status_path(d.socket).exists()
    finally:
        notify.close()
