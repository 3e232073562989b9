"""A connection's bounds against a live daemon (issue 15, findings 9-12, 13, 15).

A peer that does not read its answers is not read from and is closed past its
budget; notifications count in flight and die with their connection; the
recorder keeps only accepted calls within its byte budget; idle and silent
peers cannot hold the connection limit; malformed params never break a stream;
a NUL byte a plugin trips over is -32602.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import msgpack
import psutil
import pytest

from catalytic.client import Client

from wire import Raw

NUL_PLUGIN = """
from pathlib import Path
from catalytic.plugins.base import Param, Plugin, rpc

class Nul(Plugin):
    name = 'nul'

    @rpc('read', Param('path', 'str'))
    async def read(self, path):
        return Path(path).read_bytes()

    @rpc('quickread', Param('path', 'str'), quick='read_now')
    async def quickread(self, path):
        return b''

    def read_now(self, path):
        return open(path, 'rb').read()
"""


def _plugin_site(root: Path) -> Path:
    site = root / "site"
    info = site / "nul_plugin-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: nul-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[catalytic.plugins]\nnul = nul_plugin:Nul\n")
    (site / "nul_plugin.py").write_text(NUL_PLUGIN)
    return site


def _ping(client: Client) -> None:
    assert client.call("system.ping", payload=3) == 3


def test_a_peer_that_does_not_read_is_throttled_then_closed(make_daemon, example_plugin) -> None:
    """Finding 9: the daemon stops reading a peer that leaves its answers unread, so
    they cannot pile up; the peer is closed once it stays so (here after 2 s)."""
    d = make_daemon({"daemon": {"plugins": [example_plugin]},
                     "limits": {"max_unsent_bytes": 1 << 20, "idle_timeout_s": 2.0}})
    good = d.client()
    rss_before = psutil.Process(d.pid).memory_info().rss
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(str(d.socket))
    sock.settimeout(60)
    big = b"x" * (200 << 10)
    request = msgpack.packb([0, 1, "example.relay",
                             [{"method": "system.ping", "params": {"payload": big}}]])
    hello = msgpack.packb([0, 2, "system.hello", []])
    outcome: list[BaseException | None] = []

    def flood() -> None:
        try:
            for _ in range(200):  # 40 MB of requests whose answers are as large
                sock.sendall(request + hello * 20)
            outcome.append(None)
        except OSError as exc:
            outcome.append(exc)

    sender = threading.Thread(target=flood, daemon=True)
    sender.start()
    time.sleep(1.0)
    _ping(good)  # served while the flood is held back
    sender.join(60)
    assert outcome and isinstance(outcome[0], BrokenPipeError | ConnectionResetError), outcome
    _ping(good)
    grown = psutil.Process(d.pid).memory_info().rss - rss_before
    assert grown < 100 << 20, f"RSS grew by {grown / 2**20:.0f} MiB"
    assert "did not read its answers" in d.log() or "max_unsent_bytes" in d.log()
    sock.close()


def test_backpressure_stops_reading_until_the_peer_reads(make_daemon, example_plugin) -> None:
    """Inline answers to a pipelined burst wait in the socket, not in the daemon: the peer
    reads them all afterwards, in order, and nothing was lost."""
    d = make_daemon({"daemon": {"plugins": [example_plugin]}})
    raw = Raw(d.socket, timeout=30)
    payload = b"y" * (64 << 10)
    n = 300  # ~20 MB of answers
    data = b"".join(msgpack.packb([0, i, "system.ping", [{"payload": payload}]])
                    for i in range(n))
    sender = threading.Thread(target=raw.send, args=(data,), daemon=True)
    sender.start()
    time.sleep(1.0)  # the daemon meets a full socket and stops reading
    seen = [raw.recv()[1] for _ in range(n)]
    sender.join(30)
    assert seen == list(range(n))


def test_notifications_count_in_flight_and_die_with_the_connection(make_daemon,
                                                                    example_plugin) -> None:
    """Finding 10."""
    d = make_daemon({"daemon": {"plugins": [example_plugin]}, "limits": {"max_inflight": 4}})
    raw = Raw(d.socket)
    for _ in range(50):
        raw.send_msg([2, "example.sleep", [{"seconds": 60.0}]])
    raw.send_msg([0, 9, "example.sleep", [{"seconds": 0.01}]])
    answer = raw.recv()
    assert answer[1] == 9 and answer[2]["code"] == -32002
    spin = Raw(d.socket)
    spin.send_msg([2, "example.spin", [{"seconds": 30.0}]])
    with d.client() as c:
        deadline = time.monotonic() + 10
        while c.call("system.stats")["executor"]["running"] == 0:
            assert time.monotonic() < deadline, "the spin never started"
            time.sleep(0.05)
        spin.close()
        raw.close()
        deadline = time.monotonic() + 10
        while c.call("system.stats")["executor"]["running"]:
            assert time.monotonic() < deadline, "a notification outlived its connection"
            time.sleep(0.05)
        stats = c.call("system.stats")["methods"]
        assert stats["example.sleep"]["errors"].get("-32000", 0) >= 4  # cancelled on leave


def test_recorder_keeps_accepted_calls_only_within_its_bytes(core_daemon) -> None:
    """Finding 11."""
    with core_daemon.client() as c:
        c.call("system.record", action="start", name="bounds", max_bytes=4096)
        for _ in range(20):
            with pytest.raises(Exception, match="expected one of the params"):
                c.call("example.greet", who="x", key="k" * (1 << 20))
        assert c.call("system.record", action="status")["calls"] == 0
        for _ in range(200):
            c.call("example.greet", who="w" * 10_000)
        status = c.call("system.record", action="status")
        assert 0 < status["bytes"] <= 4096 and status["dropped"] > 0
        saved = c.call("system.record", action="stop")
    assert os.path.getsize(saved["path"]) < 8192


def test_idle_connections_are_closed(make_daemon, example_plugin) -> None:
    """Finding 12: idle peers are closed after limits.idle_timeout_s."""
    d = make_daemon({"daemon": {"plugins": [example_plugin]},
                     "limits": {"idle_timeout_s": 0.5}})
    idle = Raw(d.socket)
    idle.send_msg([0, 1, "system.ping", []])
    assert idle.recv() == [1, 1, None, "pong"]
    busy = Raw(d.socket, timeout=20)
    busy.send_msg([0, 2, "example.sleep", [{"seconds": 2.5}]])
    assert idle.closed_by_peer(timeout=10)
    assert busy.recv() == [1, 2, None, 2.5]  # a call in flight is not idleness


def test_silent_peers_cannot_hold_the_connection_limit(make_daemon, example_plugin) -> None:
    """Finding 12: at the limit, the oldest peer that never sent a byte makes room."""
    d = make_daemon({"daemon": {"plugins": [example_plugin]},
                     "limits": {"max_connections": 3}})
    silent = [Raw(d.socket) for _ in range(3)]
    time.sleep(1.5)
    with d.client() as c:
        _ping(c)
    assert silent[0].closed_by_peer(timeout=5)


@pytest.mark.parametrize("message", [
    [0, 1, "system.cancel", [{"id": [1, 2]}]],
    [0, 1, "system.cancel", [{"id": {"a": 1}}]],
    [0, 1, "system.cancel", [{"id": -5}]],
    [0, 1, "system.ping", [{(1, 2): 3}]],
])
def test_odd_params_are_refused_and_the_stream_goes_on(core_daemon, message) -> None:
    """Finding 15."""
    raw = Raw(core_daemon.socket)
    raw.send_msg(message)
    answer = raw.recv()
    assert answer[1] == 1 and answer[2]["code"] == -32602, answer
    raw.send_msg([2, "system.cancel", [{"id": [1]}]])  # a notification: ignored
    raw.send_msg([0, 2, "system.ping", []])
    assert raw.recv() == [1, 2, None, "pong"]


def test_a_map_used_as_a_key_is_refused(core_daemon) -> None:
    raw = Raw(core_daemon.socket)
    # [0, 1, "system.ping", [{{"a": 1}: 2}]] built by hand: Python cannot pack it
    raw.send(b"\x94\x00\x01\xabsystem.ping\x91\x81\x81\xa1a\x01\x02")
    answer = raw.recv()
    assert answer[1] == 1 and answer[2]["code"] == -32602
    raw.send_msg([0, 2, "system.ping", []])
    assert raw.recv() == [1, 2, None, "pong"]


def test_a_nul_byte_a_plugin_trips_over_is_invalid_params(make_daemon, tmp_path) -> None:
    """Finding 13 at the dispatcher: `ValueError: embedded null byte` is -32602."""
    site = _plugin_site(tmp_path)
    env = {"PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    d = make_daemon({"daemon": {"plugins": ["nul"]}}, env=env)
    raw = Raw(d.socket)
    for i, method in enumerate(("nul.read", "nul.quickread")):
        raw.send_msg([0, i, method, [{"path": "/tmp/a\x00b"}]])
        answer = raw.recv()
        assert answer[2]["code"] == -32602 and "NUL" in answer[2]["message"], answer


def test_answers_past_max_unsent_bytes_close_the_peer(make_daemon, example_plugin) -> None:
    """Finding 9: answers of calls already running pile up no further than
    limits.max_unsent_bytes: past it the peer is closed and its calls cancelled."""
    d = make_daemon({"daemon": {"plugins": [example_plugin]},
                     "limits": {"max_unsent_bytes": 1 << 20}})
    raw = Raw(d.socket)
    hello_bytes = len(msgpack.packb(d.client().call("system.hello")))
    n = 4 * (1 << 20) // hello_bytes + 10
    raw.send(b"".join(msgpack.packb([0, i, "example.relay", [{"method": "system.hello"}]])
                      for i in range(n)))
    deadline = time.monotonic() + 20
    while "max_unsent_bytes" not in d.log():
        assert time.monotonic() < deadline, "the daemon kept queueing answers"
        time.sleep(0.1)
    raw.sock.settimeout(10)
    received = 0
    try:
        while chunk := raw.sock.recv(1 << 20):
            received += len(chunk)
    except ConnectionResetError:
        pass
    assert received < 3 * (1 << 20)
    with d.client() as c:
        _ping(c)
