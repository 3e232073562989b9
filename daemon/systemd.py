"""sd_notify and socket activation, written out (each is a few lines of protocol).

NOTIFY_SOCKET is a datagram socket (a path, or '@' for the abstract
namespace); LISTEN_FDS/LISTEN_PID hand us listening sockets from fd 3 on.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

SD_LISTEN_FDS_START = 3


def notify(*lines: str) -> bool:
    """Send `KEY=VALUE` lines to systemd; False when not under systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall("\n".join(lines).encode())
    except OSError:
        return False
    return True


def reloading() -> bool:
    """RELOADING=1 with the MONOTONIC_USEC that Type=notify-reload expects."""
    usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
    return notify("RELOADING=1", f"MONOTONIC_USEC={usec}")


def watchdog_interval() -> float | None:
    """Half of WATCHDOG_USEC in seconds, when the watchdog is on for this pid."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    try:
        return int(usec) / 1e6 / 2
    except ValueError:
        return None


def listen_fds(unset: bool = True) -> list[socket.socket]:
    """Sockets passed by socket activation (empty when not activated for this pid)."""
    pid = os.environ.get("LISTEN_PID")
    count = os.environ.get("LISTEN_FDS")
    if not count or pid != str(os.getpid()):
        return []
    if unset:
        for name in ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"):
            os.environ.pop(name, None)
    sockets = []
    for fd in range(SD_LISTEN_FDS_START, SD_LISTEN_FDS_START + int(count)):
        os.set_inheritable(fd, False)
        sockets.append(socket.socket(fileno=fd))
    return sockets


def bound_path(sock: socket.socket) -> Path | None:
    """The filesystem path an inherited AF_UNIX socket listens on (None for abstract,
    unnamed or non-Unix sockets): the truth to report when systemd chose the path."""
    if sock.family != socket.AF_UNIX:
        return None
    name = sock.getsockname()
    if isinstance(name, bytes):
        name = name.decode(errors="surrogateescape")
    if not name or name.startswith("\0"):
        return None
    return Path(name)
