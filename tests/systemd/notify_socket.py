"""A NOTIFY_SOCKET of our own: the datagram socket systemd would read sd_notify from."""

from __future__ import annotations

import socket
import time
from pathlib import Path


class NotifySocket:
    """Bind an AF_UNIX datagram socket and collect `KEY=VALUE` messages sent to it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.messages: list[dict[str, str]] = []

    def close(self) -> None:
        self.sock.close()

    def receive(self, timeout: float) -> dict[str, str] | None:
        """The next message as a dict, or None when nothing came within `timeout`."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return None
        fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
        self.messages.append(fields)
        return fields

    def wait_for(self, key: str, value: str = "1", timeout: float = 30.0,
                 skip: tuple[str, ...] = ("WATCHDOG",)) -> dict[str, str]:
        """The first message carrying `key=value`; other messages are only allowed
        when each of their keys is in `skip` (so an unexpected state fails loudly)."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            msg = self.receive(left)
            if msg is None:
                break
            if msg.get(key) == value:
                return msg
            unexpected = [k for k in msg if k not in skip]
            assert not unexpected, f"expected {key}={value}, got {msg} first"
        raise AssertionError(f"no {key}={value} within {timeout} s; got {self.messages}")
