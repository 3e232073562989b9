"""Find the daemon: its socket, its status file, and starting it when asked.

The status file (pid, socket, version) is written atomically by the daemon
beside its socket; the client validates it to tell "not running" from
"stale" from "running" plainly, as dmypy does.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from catalytic.client.errors import DaemonNotRunning
from catalytic.config.paths import socket_path, state_dir, status_path

RETRY_ERRNOS = (errno.ENOENT, errno.ECONNREFUSED, errno.EAGAIN)


@dataclass(frozen=True)
class Status:
    pid: int
    socket: str
    version: str
    started: float

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def read_status(sock: Path) -> Status | None:
    """The daemon's status file, or None when it is missing or unreadable."""
    try:
        data = json.loads(status_path(sock).read_text())
        return Status(int(data["pid"]), str(data["socket"]), str(data["version"]),
                      float(data.get("started", 0.0)))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def resolve_socket(path: str | os.PathLike[str] | None = None) -> Path:
    return Path(path) if path is not None else socket_path()


def connect_unix(sock: Path, timeout: float | None = None) -> socket.socket:
    """A connected AF_UNIX socket, or DaemonNotRunning with a plain reason."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(str(sock))
    except OSError as exc:
        s.close()
        if exc.errno in RETRY_ERRNOS:
            status = read_status(sock)
            why = "no daemon is listening"
            if status is not None and not status.alive():
                why = f"the daemon (pid {status.pid}) is gone; its socket is stale"
            raise DaemonNotRunning(f"{why} on {sock}: start it with `catalytic start`") from exc
        raise
    return s


def daemon_log_path() -> Path:
    return state_dir() / "catalyticd.log"


def spawn_daemon(sock: Path, extra_args: list[str] | None = None) -> subprocess.Popen[bytes]:
    """Start `catalyticd` in the background, detached, logging to the state dir."""
    log = daemon_log_path()
    log.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    env = dict(os.environ, CATALYTIC_SOCKET=str(sock))
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "catalytic.daemon", *(extra_args or [])],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env,
            start_new_session=True, close_fds=True)


def wait_for_socket(sock: Path, timeout: float = 10.0,
                    proc: subprocess.Popen[bytes] | None = None) -> None:
    """Retry connecting until the daemon answers (ENOENT/ECONNREFUSED) or time runs out."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        try:
            connect_unix(sock, timeout=1.0).close()
            return
        except DaemonNotRunning:
            if proc is not None and proc.poll() is not None:
                raise DaemonNotRunning(
                    f"catalyticd exited with status {proc.returncode} while starting; see "
                    f"{daemon_log_path()}") from None
            if time.monotonic() > deadline:
                raise DaemonNotRunning(
                    f"catalyticd did not answer on {sock} within {timeout:g} s; see "
                    f"{daemon_log_path()}") from None
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


def ensure_daemon(sock: Path, timeout: float = 10.0) -> None:
    """Start the daemon unless one answers already (sccache-style auto-start)."""
    try:
        connect_unix(sock, timeout=1.0).close()
        return
    except DaemonNotRunning:
        pass
    proc = spawn_daemon(sock)
    wait_for_socket(sock, timeout, proc)
