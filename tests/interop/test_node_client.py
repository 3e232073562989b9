"""Node.js as a client, with @msgpack/msgpack from the npm registry.

msgpack_client.cjs is a client written from docs/protocol.md alone: it
pipelines requests, matches answers by msgid, sends bin, reads error codes,
cancels (by request and by notification) and sets deadlines. The package is
installed once into the user's cache directory (or taken from NODE_PATH); the
test is skipped with a plain message when node or the package is unavailable.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from catalytic.client import PROTOCOL_VERSION

NODE = shutil.which("node")
NPM = shutil.which("npm")
CLIENT = Path(__file__).with_name("msgpack_client.cjs")
PACKAGE = "@msgpack/msgpack@3"

pytestmark = pytest.mark.skipif(
    NODE is None, reason="Node.js is not installed (Debian: apt-get install nodejs npm)")


def _resolves(node_path: str) -> bool:
    assert NODE is not None
    probe = subprocess.run([NODE, "-e", "require.resolve('@msgpack/msgpack')"],
                           env={**os.environ, "NODE_PATH": node_path},
                           capture_output=True, timeout=30)
    return probe.returncode == 0


@pytest.fixture(scope="module")
def node_path() -> str:
    """A NODE_PATH under which `require('@msgpack/msgpack')` works."""
    existing = os.environ.get("NODE_PATH", "")
    if existing and _resolves(existing):
        return existing
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    prefix = cache / "catalytic" / "test-node"
    modules = str(prefix / "node_modules")
    if _resolves(modules):
        return modules
    if NPM is None:
        pytest.skip("npm is not installed, so @msgpack/msgpack cannot be fetched")
    prefix.mkdir(parents=True, exist_ok=True)
    try:
        proc = subprocess.run([NPM, "install", "--no-audit", "--no-fund", "--silent",
                               "--prefix", str(prefix), PACKAGE],
                              capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        pytest.skip(f"npm install {PACKAGE} took more than 300 s (offline?)")
    if proc.returncode != 0 or not _resolves(modules):
        pytest.skip(f"npm could not install {PACKAGE} (offline?): {proc.stderr[-300:]}")
    return modules


def run_client(socket: Path, node_path: str, with_example: bool) -> dict:
    assert NODE is not None
    env = {**os.environ, "CATALYTIC_SOCKET": str(socket), "NODE_PATH": node_path,
           "WITH_EXAMPLE": "1" if with_example else "0"}
    proc = subprocess.run([NODE, str(CLIENT)], env=env, capture_output=True, text=True,
                          timeout=90)
    assert proc.returncode == 0, f"node exited {proc.returncode}: {proc.stderr}"
    return json.loads(proc.stdout)


def test_node_client_core_protocol(core_daemon, node_path: str) -> None:
    got = run_client(core_daemon.socket, node_path, with_example=False)
    assert got["protocol"] == PROTOCOL_VERSION
    assert got["hasPing"] is True
    assert got["pipelined"] == list(range(50))  # matched by msgid, none lost
    assert got["binIsBytes"] is True and got["bin"] == [0, 255, 1]
    assert got["pong"] == "pong"
    assert got["unknownMethod"] == -32601
    assert got["unknownParam"] == -32602
    assert got["wrongType"] == -32602
    assert got["bareMapParams"] == -32602
    assert got["orphanCodes"] == [-32600]  # [1, nil, error, nil] for the bad msgid
    assert got["afterBadMsgid"] == "ok"  # and the connection carried on
    assert got["finalPing"] == "bye"


def test_node_client_cancel_and_deadline(core_daemon, node_path: str) -> None:
    with core_daemon.client() as c:
        if "example.sleep" not in c.call("system.hello")["methods"]:
            pytest.skip("the example plugin (docs/plugins.md) is not installed, so there is "
                        "no slow method to cancel")
    got = run_client(core_daemon.socket, node_path, with_example=True)
    assert got["quickBeforeSlow"] is True  # answers leave in the order they finish
    assert got["deadline"] == -32001
    assert got["cancelResult"] == {"cancelled": True}
    assert got["cancelledCode"] == -32000
    assert got["cancelledByNotification"] == -32000
    assert got["finalPing"] == "bye"
