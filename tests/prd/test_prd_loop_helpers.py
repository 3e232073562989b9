"""The pieces that keep prd's heavy calls off the event loop, each on its own.

Answers encoded in slices must be byte for byte what one `msgpack.packb` gives;
a breathing thread must pause, and only where asked to. (Pool workers' scheduling
is tested for every plugin in tests/loop_lag/test_worker_scheduling.py.)
"""

from __future__ import annotations

import time

import msgpack
import pytest

from catalytic.plugins.prd import breathe
from catalytic.plugins.prd.answer_wire import packed_answer
from catalytic.protocol import Packed


def _answer(n: int) -> dict[str, object]:
    tasks = [{"id": f"a/{i}", "title": f"Task {i} \u2013 caf\u00e9", "lines": [i, i + 1],
              "dependencies": [f"a/{i - 1}"] if i else [], "priority": None,
              "complexity": 1.5 * i} for i in range(n)]
    return {"document": "d", "revision": "r1", "tasks": tasks,
            "changes": {"added": [{"id": t["id"]} for t in tasks], "changed": [],
                        "removed": ["x"]},
            "stats": {"tasks": n}, "warnings": [], "status": {t["id"]: "pending" for t in tasks}}


@pytest.mark.parametrize("n", [0, 1, 300])
def test_packed_answer_is_what_one_packb_gives(n: int) -> None:
    answer = _answer(n)
    packed = packed_answer(answer)
    assert isinstance(packed, Packed)
    assert packed.data == msgpack.packb(answer, use_bin_type=True)
    assert packed.decode() == answer


def test_packed_answer_keeps_lone_surrogates_as_the_connection_does() -> None:
    answer = {"tasks": [{"title": "bad \udcff byte"}]}
    packer = msgpack.Packer(use_bin_type=True, unicode_errors="surrogateescape")
    assert packed_answer(answer).data == packer.pack(answer)


def _spin(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        breathe.point()


def test_point_pauses_only_in_a_breathing_thread() -> None:
    with breathe.breathing() as b:
        _spin(0.05)
    assert b.pauses >= 10  # about one per EVERY_S of work
    outside = breathe.Breather()
    _spin(0.02)  # not breathing here: point() does nothing
    assert outside.pauses == 0
    assert getattr(breathe._local, "breather", None) is None
