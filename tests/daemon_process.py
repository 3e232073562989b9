"""A real `catalyticd` process on a temporary socket, for tests and benchmarks."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import tomli_w

from catalytic.client import AsyncClient, Client
from catalytic.client.discover import wait_for_socket

BASE_CONFIG: dict[str, dict[str, Any]] = {
    "http": {"port": 0},
    "daemon": {"grace_seconds": 5.0, "log_level": "debug"},
}


def render(config: dict[str, dict[str, Any]]) -> str:
    return tomli_w.dumps(config)


def merge(*configs: dict[str, dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for cfg in configs:
        for section, table in (cfg or {}).items():
            out.setdefault(section, {}).update(table)
    return out


class DaemonProcess:
    """Start, stop, kill and talk to one daemon; its files live in a private temp dir.

    The socket path is kept short (AF_UNIX paths are limited to 108 bytes).
    """

    def __init__(self, config: dict[str, dict[str, Any]] | None = None,
                 env: dict[str, str] | None = None, root: Path | None = None) -> None:
        self.root = root or Path(tempfile.mkdtemp(prefix="cat"))
        self.socket = self.root / "run" / "catalytic.sock"
        self.state_dir = self.root / "state" / "catalytic"
        self.config_path = self.root / "catalytic.toml"
        self.log_path = self.root / "catalyticd.log"
        self.config = merge(BASE_CONFIG, config)
        self.config_path.write_text(render(self.config))
        self.env = dict(os.environ)
        for name in [n for n in self.env if n.startswith(("CATALYTIC_", "NOTIFY_SOCKET",
                                                          "LISTEN_", "WATCHDOG_"))]:
            del self.env[name]
        self.env.update({
            "CATALYTIC_SOCKET": str(self.socket),
            "XDG_STATE_HOME": str(self.root / "state"),
            "XDG_CONFIG_HOME": str(self.root / "config"),
            "XDG_RUNTIME_DIR": str(self.root / "run"),
            "PYTHONUNBUFFERED": "1",
        })
        self.env.update(env or {})
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def write_config(self, config: dict[str, dict[str, Any]]) -> None:
        self.config = merge(self.config, config)
        self.config_path.write_text(render(self.config))

    def start(self, timeout: float = 30.0, args: list[str] | None = None) -> DaemonProcess:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "catalytic.daemon", "--config", str(self.config_path),
             *(args or [])],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        log.close()
        try:
            wait_for_socket(self.socket, timeout, self.proc)
        except Exception as exc:
            raise RuntimeError(f"daemon did not start: {exc}\n--- log ---\n{self.log()}") from exc
        return self

    def client(self, **kw: Any) -> Client:
        return Client(self.socket, **kw)

    async def aclient(self, **kw: Any) -> AsyncClient:
        return await AsyncClient(self.socket, **kw).connect()

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM and wait; returns the exit status."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        """SIGKILL the daemon and its process group (workers included)."""
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(10)

    def restart(self) -> DaemonProcess:
        self.stop()
        return self.start()

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_exit(self, timeout: float = 30.0) -> int:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.proc.wait(max(0.1, deadline - time.monotonic()))

    def cleanup(self) -> None:
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)
