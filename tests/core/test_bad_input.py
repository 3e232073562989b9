"""Bad input over the socket: each peer gets the documented error (or is
disconnected), the daemon stays up, and a well-behaved client is served throughout."""

from __future__ import annotations

import os
import socket
import time

import msgpack
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalytic.client import Client

from wire import Raw


def assert_serving(client: Client) -> None:
    assert client.call("system.ping", payload=7) == 7


def error_code(msg: list) -> int:
    assert msg[0] == 1, msg
    assert msg[2] is not None, msg
    return msg[2]["code"]


@pytest.fixture
def pair(core_daemon):
    good = core_daemon.client()
    yield core_daemon, good
    good.close()


def test_random_bytes_get_parse_error_and_disconnect(pair) -> None:
    d, good = pair
    raw = Raw(d.socket)
    raw.send(b"\xc1\xc1\xc1 definitely not msgpack")
    msg = raw.recv()
    assert error_code(msg) == -32700
    assert raw.closed_by_peer()
    assert_serving(good)


@pytest.mark.parametrize("value", [42, "hello", {"a": 1}, [], [7, 1, "x", []], [0, 1]])
def test_msgpack_value_that_is_not_a_message(pair, value) -> None:
    d, good = pair
    raw = Raw(d.socket)
    raw.send_msg(value)
    assert error_code(raw.recv()) == -32600
    raw.send_msg([0, 5, "system.ping", []])  # the stream is still usable
    assert raw.recv() == [1, 5, None, "pong"]
    assert_serving(good)


@pytest.mark.parametrize("msg, code", [
    ([0, "one", "system.ping", []], -32600),       # msgid not an int
    ([0, -1, "system.ping", []], -32600),          # msgid out of range
    ([0, 1, 17, []], -32600),                       # method not a string
    ([0, 1, "system.ping", "params"], -32602),     # params not an array
    ([0, 1, "system.ping", [1]], -32602),          # params array without a map
    ([0, 1, "system.ping", [{}, {}]], -32602),     # more than one map
    ([0, 1, "system.nothing", []], -32601),        # unknown method
    ([0, 1, "nothing", []], -32601),
    ([0, 1, "system.ping", [{"payload": 1, "extra": 2}]], -32602),  # unknown param
    ([0, 1, "example.greet", [{"who": 5}]], -32602),               # wrong param type
    ([0, 1, "example.greet", [{}]], -32602),                       # missing param
    ([0, 1, "example.spin", [{"seconds": -1.0}]], -32602),         # out of range
    ([0, 1, "system.ping", [{"deadline_ms": "soon"}]], -32602),    # bad deadline
])
def test_wrong_types_in_each_field(pair, msg, code) -> None:
    d, good = pair
    raw = Raw(d.socket)
    raw.send_msg(msg)
    answer = raw.recv()
    assert error_code(answer) == code
    assert "message" in answer[2] and answer[2]["message"]
    assert_serving(good)


def test_message_over_size_limit(make_daemon, example_plugin) -> None:
    d = make_daemon({"daemon": {"plugins": [example_plugin]},
                     "limits": {"max_message_bytes": 4096}})
    good = d.client()
    raw = Raw(d.socket)
    raw.send_msg([0, 9, "system.ping", [{"payload": b"x" * 10_000}]])
    answer = raw.recv()
    assert answer[1] == 9 and error_code(answer) == -32004
    assert raw.closed_by_peer()
    assert_serving(good)


def test_message_over_size_limit_after_quick_calls_keeps_its_msgid(make_daemon,
                                                                    example_plugin) -> None:
    """Quick built-ins answered from the same read must not hide where the oversized
    message starts: its error still names its msgid."""
    d = make_daemon({"daemon": {"plugins": [example_plugin]},
                     "limits": {"max_message_bytes": 4096}})
    raw = Raw(d.socket)
    raw.send(msgpack.packb([0, 7, "system.ping", []]) +
             msgpack.packb([0, 9, "system.ping", [{"payload": b"x" * 10_000}]]))
    assert raw.recv()[1] == 7
    answer = raw.recv()
    assert answer[1] == 9 and error_code(answer) == -32004
    assert raw.closed_by_peer()


def test_slowloris_is_disconnected(make_daemon, example_plugin) -> None:
    d = make_daemon({"daemon": {"plugins": [example_plugin]},
                     "limits": {"idle_partial_timeout_s": 0.5}})
    good = d.client()
    raw = Raw(d.socket)
    whole = msgpack.packb([0, 3, "system.ping", [{"payload": "x" * 100}]])
    raw.send(whole[:20])
    assert_serving(good)  # served while the slow peer stalls
    assert raw.closed_by_peer(timeout=10)
    assert_serving(good)


def test_thousand_connections_at_once(pair) -> None:
    d, good = pair
    conns = []
    try:
        for _ in range(1000):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(str(d.socket))
            conns.append(s)
        for i, s in enumerate(conns):
            s.sendall(msgpack.packb([0, i, "system.ping", [{"payload": i}]]))
        answered = 0
        for i, s in enumerate(conns):
            s.settimeout(20)
            up = msgpack.Unpacker(raw=False)
            while True:
                up.feed(s.recv(4096))
                msgs = list(up)
                if msgs:
                    assert msgs[0] == [1, i, None, i]
                    answered += 1
                    break
        assert answered == 1000
        assert_serving(good)
    finally:
        for s in conns:
            s.close()


def test_connection_limit_refuses_with_overloaded(make_daemon, example_plugin) -> None:
    d = make_daemon({"daemon": {"plugins": [example_plugin]},
                     "limits": {"max_connections": 3}})
    held = [Raw(d.socket) for _ in range(3)]
    extra = Raw(d.socket)
    assert error_code(extra.recv()) == -32002
    for r in held:
        r.close()
    time.sleep(0.2)
    with d.client() as c:
        assert_serving(c)


def test_inflight_limit_per_connection(make_daemon, example_plugin) -> None:
    d = make_daemon({"daemon": {"plugins": [example_plugin]}, "limits": {"max_inflight": 2}})
    raw = Raw(d.socket)
    for i in range(3):
        raw.send_msg([0, i, "example.sleep", [{"seconds": 1.0}]])
    first = raw.recv()
    assert first[1] == 2 and error_code(first) == -32002
    assert {raw.recv()[1], raw.recv()[1]} == {0, 1}


def test_disconnect_with_calls_in_flight(pair) -> None:
    d, good = pair
    raw = Raw(d.socket)
    for i in range(20):
        raw.send_msg([0, i, "example.sleep", [{"seconds": 30.0}]])
    raw.send_msg([0, 99, "example.spin", [{"seconds": 30.0}]])
    time.sleep(0.3)
    raw.close()
    time.sleep(0.5)
    assert_serving(good)
    stats = good.call("system.stats")
    assert stats["executor"]["running"] == 0  # the spinning job was cancelled


def test_bytes_and_nil_travel_as_they_are(pair) -> None:
    _, good = pair
    for payload in (b"", b"\x00" * 1000, None, True, -(2**63), 2**64 - 1, 1.5, "é", [b"x"]):
        assert good.call("system.ping", payload=payload) == payload


messages = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.floats()
    | st.text(max_size=20) | st.binary(max_size=40),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12)
shaped = st.tuples(st.sampled_from([0, 1, 2, 3, -1]), messages, messages, messages).map(list)


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(batch=st.lists(messages | shaped, min_size=1, max_size=5))
def test_generated_messages_never_take_the_daemon_down(core_daemon, batch) -> None:
    raw = Raw(core_daemon.socket, timeout=5)
    try:
        raw.send(b"".join(msgpack.packb(m, use_bin_type=True) for m in batch))
        raw.send_msg([0, 4242, "system.ping", [{"payload": "alive"}]])
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            msg = raw.recv()
            if msg is None or msg == [1, 4242, None, "alive"]:
                break
    finally:
        raw.close()
    with core_daemon.client() as c:
        assert_serving(c)
    assert core_daemon.running()
    assert os.path.exists(core_daemon.socket)


def test_str_that_is_not_utf8_is_refused_with_its_msgid(pair) -> None:
    """Finding 17: invalid UTF-8 in a str is a parse error naming the msgid, never echoed."""
    d, good = pair
    raw = Raw(d.socket)
    # [0, 1, "system.ping", [{"payload": <str of bytes ff fe>}]] built by hand
    raw.send(b"\x94\x00\x01\xabsystem.ping\x91\x81\xa7payload\xa2\xff\xfe")
    up = msgpack.Unpacker(raw=True)
    up.feed(raw.sock.recv(4096))
    answer = next(up)
    assert answer[1] == 1 and answer[2][b"code"] == -32700 and answer[3] is None
    assert b"UTF-8" in answer[2][b"message"]
    assert raw.closed_by_peer()
    assert_serving(good)


def test_reused_msgid_in_flight_is_refused_with_its_msgid(pair) -> None:
    """Finding 17: the refusal names the msgid; the first call still answers."""
    d, _ = pair
    raw = Raw(d.socket)
    raw.send_msg([0, 5, "example.sleep", [{"seconds": 0.5}]])
    raw.send_msg([0, 5, "system.ping", [{"payload": 1}]])
    refused = raw.recv()
    assert refused[1] == 5 and refused[2]["code"] == -32600 and refused[2]["data"] == {
        "msgid": 5}
    assert raw.recv() == [1, 5, None, 0.5]


def test_message_stalled_mid_send_is_answered_with_its_msgid(make_daemon,
                                                             example_plugin) -> None:
    d = make_daemon({"daemon": {"plugins": [example_plugin]},
                     "limits": {"idle_partial_timeout_s": 0.3}})
    raw = Raw(d.socket)
    whole = msgpack.packb([0, 77, "system.ping", [{"payload": "x" * 100}]])
    raw.send(whole[:3])
    time.sleep(0.2)
    raw.send(whole[3:30])  # the msgid arrived in the first piece, the rest never does
    answer = raw.recv()
    assert answer[1] == 77 and error_code(answer) == -32600
    assert "idle_partial_timeout_s" in answer[2]["message"]
    assert raw.closed_by_peer()
