"""Neovim as a client: its built-in msgpack-rpc talks to the daemon unaided.

`rpcrequest(chan, method, {map})` sends `[0, id, method, [map]]`, the shape
DESIGN.md names; this is the check that the protocol is plain msgpack-rpc and
not an accident of our own Python client.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from catalytic.client import PROTOCOL_VERSION

NVIM = shutil.which("nvim")

pytestmark = pytest.mark.skipif(
    NVIM is None, reason="Neovim is not installed (Debian: apt-get install neovim)")

SCRIPT = r"""
let s:out = {}
let s:chan = sockconnect('pipe', $CATALYTIC_SOCKET, {'rpc': v:true})
let s:out.ping = rpcrequest(s:chan, 'system.ping', {'payload': 1})
let s:out.pong = rpcrequest(s:chan, 'system.ping')
let s:out.nested = rpcrequest(s:chan, 'system.ping',
      \ {'payload': [1, 'two', {'three': 3.5, 'four': v:true}]})
let s:out.null = rpcrequest(s:chan, 'system.ping', {'payload': v:null})
let s:hello = rpcrequest(s:chan, 'system.hello')
let s:out.protocol = s:hello.protocol
let s:out.methods = keys(s:hello.methods)
try
  call rpcrequest(s:chan, 'nosuch.method', {})
  let s:out.unknown = 'answered'
catch
  let s:out.unknown = v:exception
endtry
try
  call rpcrequest(s:chan, 'system.ping', {'bogus': 1})
  let s:out.invalid = 'answered'
catch
  let s:out.invalid = v:exception
endtry
" A notification gets no answer; the channel carries on.
call rpcnotify(s:chan, 'system.cancel', {'id': 12345})
let s:out.after = rpcrequest(s:chan, 'system.ping', {'payload': 'still here'})
" A second channel is a second connection, served alongside the first.
let s:chan2 = sockconnect('pipe', $CATALYTIC_SOCKET, {'rpc': v:true})
let s:out.second = rpcrequest(s:chan2, 'system.ping', {'payload': 2})
call chanclose(s:chan2)
call writefile([json_encode(s:out)], $OUT)
qa!
"""


def test_neovim_calls_the_daemon(core_daemon, tmp_path: Path) -> None:
    assert NVIM is not None
    script = tmp_path / "client.vim"
    script.write_text(SCRIPT)
    out = tmp_path / "out.json"
    env = {**os.environ, "CATALYTIC_SOCKET": str(core_daemon.socket), "OUT": str(out),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_STATE_HOME": str(tmp_path),
           "XDG_DATA_HOME": str(tmp_path)}
    proc = subprocess.run([NVIM, "--headless", "--clean", "-n", "-i", "NONE", "-S", str(script)],
                          env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=60)
    assert out.exists(), f"nvim exited {proc.returncode}: {proc.stdout}{proc.stderr}"
    got = json.loads(out.read_text())

    assert got["ping"] == 1
    assert got["pong"] == "pong"
    assert got["nested"] == [1, "two", {"three": 3.5, "four": True}]
    assert got["null"] is None
    assert got["protocol"] == PROTOCOL_VERSION
    assert "system.ping" in got["methods"] and "system.cancel" in got["methods"]
    # Neovim turns any error answer into an exception (it only prints the message of
    # errors shaped [type, message], so ours read "unknown error" there).
    assert got["unknown"].startswith("Vim(call):Error invoking 'nosuch.method'")
    assert got["invalid"].startswith("Vim(call):Error invoking 'system.ping'")
    assert got["after"] == "still here"
    assert got["second"] == 2

    with core_daemon.client() as c:  # the daemon counted what Neovim sent
        methods = c.call("system.stats")["methods"]
    assert methods["system.ping"]["calls"] >= 6
    assert methods["system.ping"]["errors"].get("-32602") == 1
