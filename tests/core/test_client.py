"""The client stays thin and says plainly what is wrong."""

from __future__ import annotations

import subprocess
import sys

import pytest

from catalytic.client import Client, DaemonNotRunning, ProtocolMismatch
from catalytic.client.protocol import check_hello


def test_client_imports_nothing_heavy() -> None:
    code = ("import sys, catalytic.protocol, catalytic.client, catalytic.client.cli; "
            "bad = [m for m in sys.modules if m.split('.')[0] in "
            "('aiohttp', 'uvloop', 'psutil', 'stevedore', 'prometheus_client', 'numpy') "
            "or m.startswith(('catalytic.daemon', 'catalytic.plugins'))]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_version_mismatch_is_named() -> None:
    with pytest.raises(ProtocolMismatch) as info:
        check_hello({"protocol": 99, "version": "9.9"})
    assert "protocol 99" in str(info.value) and "9.9" in str(info.value)


def test_no_daemon_is_said_plainly(tmp_path) -> None:
    with pytest.raises(DaemonNotRunning) as info:
        Client(tmp_path / "none.sock")
    assert "no daemon is listening" in str(info.value)
    assert "catalytic start" in str(info.value)


def test_cli_against_a_daemon(core_daemon) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "catalytic.client.cli", "--socket",
                               str(core_daemon.socket), "--no-autostart", *args],
                              capture_output=True, text=True, env=core_daemon.env)

    out = cli("--json", "call", "system.ping", "--params", '{"payload": "hi"}')
    assert out.returncode == 0 and out.stdout.strip() == '"hi"'
    out = cli("call", "system.ping", "--params", "[1]")
    assert out.returncode == 2 and "JSON object" in out.stderr
    out = cli("call", "example.fail")
    assert out.returncode == 1 and "error -33001" in out.stderr
    out = cli("--json", "status")
    assert out.returncode == 0 and f'"pid": {core_daemon.pid}' in out.stdout
    out = cli("--json", "config", "show")
    assert out.returncode == 0 and '"daemon"' in out.stdout
    core_daemon.stop()
    out = cli("ping")
    assert out.returncode == 3 and "no daemon is listening" in out.stderr
