"""The daemon starts, answers the handshake and stops cleanly on SIGTERM."""

from __future__ import annotations

from catalytic.client import PROTOCOL_VERSION


def test_hello_ping_and_clean_stop(core_daemon) -> None:
    with core_daemon.client() as c:
        hello = c.call("system.hello")
        assert hello["protocol"] == PROTOCOL_VERSION
        assert {"version", "plugins", "methods", "http"} <= set(hello)
        assert "system.ping" in hello["methods"]
        assert c.call("system.ping") == "pong"
        assert c.call("system.ping", payload=b"\x00\xff") == b"\x00\xff"
        assert c.call("system.ping", payload=None) is None
        assert c.call("system.ping", payload={"a": [1, 2.5, "x"]}) == {"a": [1, 2.5, "x"]}
    assert core_daemon.stop() == 0
    assert not core_daemon.socket.exists()
