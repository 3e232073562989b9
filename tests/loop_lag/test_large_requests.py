"""Large request frames are decoded off the loop, and still decoded right.

A frame past `LARGE_FRAME_BYTES` is handed to a thread (daemon/large_frame.py):
the value must arrive intact, messages sent right after it in the same write
must be answered in order, a broken or oversized large frame must be refused
naming its msgid. (`system.ping` while 32 MiB requests arrive: test_loop_lag.py.)
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable
from typing import Any

import msgpack
import pytest

from catalytic.daemon.large_frame import LARGE_FRAME_BYTES, LargeFrame

from wire import Raw

MakeDaemon = Callable[..., Any]


def pattern(n: int, seed: int) -> bytes:
    return bytes((i * 7 + seed) & 0xFF for i in range(256)) * (n // 256)


def workspace(make_daemon: MakeDaemon, **limits: Any) -> Any:
    return make_daemon({"daemon": {"plugins": ["workspace"], "workers": 1},
                        **({"limits": limits} if limits else {})})


def test_large_values_arrive_intact_and_what_follows_is_answered(
        make_daemon: MakeDaemon) -> None:
    d = workspace(make_daemon)
    big = [pattern(3 * LARGE_FRAME_BYTES + 512 * i, i) for i in range(3)]
    raw = Raw(d.socket, timeout=120)
    # three large puts and pings between them in one write: the frames after each large
    # one arrive while it is decoded, and must be read from where it ended
    stream = b"".join(
        msgpack.packb([0, 10 + i, "workspace.put",
                       [{"key": f"big/{i}", "data": value, "codec": "none"}]], use_bin_type=True)
        + msgpack.packb([0, 100 + i, "system.ping", []])
        for i, value in enumerate(big))
    raw.send(stream)
    answers = {}
    for _ in range(6):
        msg = raw.recv()
        assert msg is not None, answers
        answers[msg[1]] = msg
    assert sorted(answers) == [10, 11, 12, 100, 101, 102]
    for i in range(3):
        assert answers[10 + i][2] is None, answers[10 + i]
        assert answers[100 + i][2] is None
    raw.close()
    with d.client(timeout=120) as c:
        for i, value in enumerate(big):
            assert c.call("workspace.get", {"key": f"big/{i}"})["data"] == value
        assert c.call("system.ping") is not None


def test_a_large_frame_sent_in_small_pieces_is_decoded(make_daemon: MakeDaemon) -> None:
    d = workspace(make_daemon)
    value = pattern(2 * LARGE_FRAME_BYTES, 3)
    frame = msgpack.packb([0, 7, "workspace.put", [{"key": "pieces", "data": value}]],
                          use_bin_type=True)
    raw = Raw(d.socket, timeout=60)
    for at in range(0, len(frame), 100_003):
        raw.send(frame[at:at + 100_003])
    msg = raw.recv()
    assert msg[1] == 7 and msg[2] is None, msg
    raw.send(msgpack.packb([0, 8, "workspace.get", [{"key": "pieces"}]], use_bin_type=True))
    got = raw.recv()
    assert got[1] == 8 and got[3]["data"] == value
    raw.close()


def test_a_broken_large_frame_is_refused_naming_its_msgid(make_daemon: MakeDaemon) -> None:
    d = workspace(make_daemon)
    bad = b"\xff" * (2 * LARGE_FRAME_BYTES)  # not UTF-8, sent as a str
    head = b"\x94" + msgpack.packb(0) + msgpack.packb(41) + msgpack.packb("workspace.put")
    body = b"\x91\x81" + msgpack.packb("data") + b"\xdb" + len(bad).to_bytes(4, "big") + bad
    raw = Raw(d.socket, timeout=60)
    raw.send(head + body)
    msg = raw.recv()
    assert msg[1] == 41 and msg[2]["code"] == -32700, msg
    assert "UTF-8" in msg[2]["message"]
    assert raw.closed_by_peer()
    with d.client() as c:  # the daemon goes on for everyone else
        assert c.call("system.ping") is not None


def test_a_too_large_frame_is_refused_as_too_large(make_daemon: MakeDaemon) -> None:
    d = workspace(make_daemon, max_message_bytes=4 * LARGE_FRAME_BYTES)
    value = pattern(6 * LARGE_FRAME_BYTES, 1)
    raw = Raw(d.socket, timeout=60)
    try:
        raw.send(msgpack.packb([0, 42, "workspace.put", [{"data": value}]], use_bin_type=True))
    except (BrokenPipeError, ConnectionResetError):
        pass  # closed before everything was sent: the answer is still readable
    msg = raw.recv()
    assert msg[1] == 42 and "max_message_bytes" in msg[2]["message"], msg


async def test_a_large_frame_pauses_gc_only_while_it_is_decoded() -> None:
    options = {"raw": False, "strict_map_key": False, "unicode_errors": "strict",
               "max_buffer_size": 1 << 28, "max_bin_len": 1 << 27, "max_str_len": 1 << 27}
    frame = msgpack.packb([0, 5, "m", [pattern(2 * LARGE_FRAME_BYTES, 2)]], use_bin_type=True)
    after = msgpack.packb([0, 6, "system.ping", []])
    got: asyncio.Queue[tuple[Any, BaseException | None]] = asyncio.Queue()
    assert gc.isenabled()
    large = LargeFrame(100, [frame[:1000]], options,
                       lambda f, message, error: got.put_nowait((message, error)))
    assert not gc.isenabled(), "paused from the start of the frame"
    large.add(frame[1000:] + after)
    message, error = await asyncio.wait_for(got.get(), 60)
    assert error is None and message[:3] == [0, 5, "m"]
    assert large.end == 100 + len(frame) and large.rest() == after
    assert gc.isenabled()
    # a connection that goes away mid-frame: the thread ends, the GC runs again
    left = LargeFrame(0, [frame[:1000]], options, lambda *_: pytest.fail("answered"))
    assert not gc.isenabled()
    left.abandon()
    for _ in range(200):
        if gc.isenabled():
            break
        await asyncio.sleep(0.01)
    assert gc.isenabled()
