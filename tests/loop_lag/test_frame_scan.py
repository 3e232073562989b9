"""`FrameScan` finds where a message ends and decodes it exactly as msgpack does.

Messages of every msgpack type, long bin/str values (also as map keys, and an
ext whose code is the placeholder's), cut into chunks at every kind of boundary,
with the next message's bytes after them.
"""

from __future__ import annotations

import random
from typing import Any

import msgpack
import pytest

from catalytic.daemon.frame_scan import LONG_VALUE_BYTES, FrameScan

OPTIONS: dict[str, Any] = {"raw": False, "strict_map_key": False, "unicode_errors": "strict",
                           "max_buffer_size": 1 << 30, "max_bin_len": 1 << 28,
                           "max_str_len": 1 << 28}
LONG = LONG_VALUE_BYTES + 17


def messages() -> list[Any]:
    rnd = random.Random(5)
    small = [None, True, False, 0, -1, 127, 128, -33, 2**16, -(2**31), 2**63, 1.5,
             "", "x" * 31, "y" * 300, b"", b"z" * 70_000, [], {}, msgpack.ExtType(5, b"abc"),
             msgpack.ExtType(127, b"0123456789abcdef"), list(range(20)),
             {str(i): i for i in range(20)}]
    return [
        [0, 1, "workspace.put", [{"key": "k", "data": bytes(rnd.randrange(256)
                                                        for _ in range(LONG))}]],
        [0, 2, "prd.decompose", [{"text": "caf\u00e9 \u2013 " * (LONG // 8)}]],
        {"k" * LONG: b"v" * LONG, "nested": [[b"w" * LONG, small]], "small": small},
        [0, 3, "evolve.tell", [{"results": [{"id": f"c{i}", "values": [i * 0.5, -i, 1e300]}
                                            for i in range(5000)]}]],
        small,
    ]


@pytest.mark.parametrize("index", range(5))
@pytest.mark.parametrize("chunk", [1 << 18, 4093, 1])
def test_scan_decodes_what_msgpack_decodes(index: int, chunk: int) -> None:
    message = messages()[index]
    data = msgpack.packb(message, use_bin_type=True)
    after = msgpack.packb([0, 9, "system.ping", []])
    stream = data + after
    if chunk == 1:  # byte by byte only through the headers: the walk is per byte
        pieces = [stream[i:i + 1] for i in range(min(len(stream), 400))]
        pieces.append(stream[400:])
    else:
        pieces = [stream[i:i + chunk] for i in range(0, len(stream), chunk)]
    scan = FrameScan(1 << 28)
    done = False
    for piece in pieces:
        assert not done
        done = scan.add(piece)
        if done:
            break
    assert done
    assert scan.end == len(data)
    reference = msgpack.Unpacker(**OPTIONS)
    reference.feed(data)
    expected = reference.unpack()
    assert scan.decode(OPTIONS) == expected


def test_scan_waits_for_the_last_payload_and_refuses_what_is_not_msgpack() -> None:
    data = msgpack.packb([0, 1, "m", [b"x" * LONG]], use_bin_type=True)
    scan = FrameScan(1 << 28)
    assert not scan.add(data[:-1])
    assert scan.add(data[-1:])
    with pytest.raises(ValueError, match="exceeds max_bin_len"):
        FrameScan(1000).add(msgpack.packb([b"x" * 2000], use_bin_type=True))
    with pytest.raises(ValueError, match="0xc1"):
        FrameScan(1000).add(b"\x92\xc1")


def test_a_long_string_that_is_not_utf8_fails_as_msgpack_would() -> None:
    bad = b"\xff" * LONG
    data = b"\x91\xdb" + len(bad).to_bytes(4, "big") + bad
    scan = FrameScan(1 << 28)
    assert scan.add(data)
    with pytest.raises(UnicodeDecodeError):
        scan.decode(OPTIONS)
