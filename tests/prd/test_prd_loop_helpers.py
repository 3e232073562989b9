"""The pieces that keep prd's heavy calls off the event loop, each on its own.

Answers encoded in slices must be byte for byte what one `msgpack.packb` gives;
a niced job must hand back its result and its exception; a breathing thread
must pause, and only where asked to.
"""

from __future__ import annotations

import os
import threading
import time

import msgpack
import pytest

from catalytic.plugins.prd import breathe
from catalytic.plugins.prd.answer_wire import packed_answer
from catalytic.plugins.prd.niced import run_niced
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


def test_run_niced_returns_and_raises_and_lowers_only_its_thread() -> None:
    me = threading.get_native_id()
    before = os.getpriority(os.PRIO_PROCESS, me)

    def job(x: int) -> tuple[int, int]:
        return x * 2, os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    value, nice = run_niced(job, 21)
    assert value == 42
    assert nice >= before  # raised where the platform allows it, never lowered
    assert os.getpriority(os.PRIO_PROCESS, me) == before

    def bad() -> None:
        raise ValueError("from the job")

    with pytest.raises(ValueError, match="from the job"):
        run_niced(bad)


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


def _session_after_moving() -> tuple[int, int]:
    from catalytic.plugins.prd.niced import own_scheduling_group

    own_scheduling_group()
    own_scheduling_group()  # once per worker: the second call does nothing
    return os.getsid(0), os.getpid()


def test_a_pool_worker_gets_a_session_of_its_own_the_caller_does_not() -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from catalytic.plugins.prd.niced import own_scheduling_group

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
        sid, pid = pool.submit(_session_after_moving).result(timeout=60)
    assert sid == pid
    mine = os.getsid(0)
    own_scheduling_group()  # not a multiprocessing child: left alone
    assert os.getsid(0) == mine
