"""Raw msgpack-rpc over a socket, for tests that must send what no client would."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import msgpack


class Raw:
    def __init__(self, path: Path, timeout: float = 10.0) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))
        self.unpacker = msgpack.Unpacker(raw=False, strict_map_key=False)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_msg(self, msg: Any) -> None:
        self.send(msgpack.packb(msg, use_bin_type=True))

    def recv(self) -> Any:
        """The next message, or None when the daemon closed the connection."""
        for msg in self.unpacker:
            return msg
        while True:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                return None
            self.unpacker.feed(chunk)
            for msg in self.unpacker:
                return msg

    def closed_by_peer(self, timeout: float = 10.0) -> bool:
        self.sock.settimeout(timeout)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if not self.sock.recv(1 << 16):
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except TimeoutError:
            return False
        return False

    def close(self) -> None:
        self.sock.close()
