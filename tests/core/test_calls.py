"""Calls in flight: out-of-order answers, progress, cancel, deadlines, executor, plugin errors."""

from __future__ import annotations

import asyncio

import pytest

from catalytic.client import Cancelled, DeadlineExceeded, RpcError

from wire import Raw


def test_responses_come_out_of_order(core_daemon) -> None:
    raw = Raw(core_daemon.socket)
    raw.send_msg([0, 1, "example.sleep", [{"seconds": 0.5}]])
    raw.send_msg([0, 2, "system.ping", []])
    assert raw.recv() == [1, 2, None, "pong"]
    assert raw.recv() == [1, 1, None, 0.5]


async def test_many_calls_in_flight_on_one_connection(core_daemon) -> None:
    client = await core_daemon.aclient()
    try:
        results = await asyncio.gather(
            *(client.call("system.ping", payload=i) for i in range(500)),
            *(client.call("example.sleep", seconds=0.2) for _ in range(20)))
        assert results[:500] == list(range(500))
    finally:
        await client.close()


def test_progress_notifications_reach_the_caller(core_daemon) -> None:
    seen: list[dict] = []
    with core_daemon.client() as c:
        result = c.call("example.spin", seconds=0.6, progress=seen.append)
    assert result["seconds"] == 0.6
    assert len(seen) >= 3
    assert all(p["total"] == 0.6 and p["message"] == "spinning" for p in seen)
    assert [p["done"] for p in seen] == sorted(p["done"] for p in seen)


async def test_cancel_stops_a_running_job(core_daemon) -> None:
    client = await core_daemon.aclient()
    try:
        task = asyncio.ensure_future(client.call("example.spin", seconds=30))
        await asyncio.sleep(0.5)
        msgid = max(client._pending)
        assert await client.call("system.cancel", id=msgid) == {"cancelled": True}
        with pytest.raises(Cancelled):
            await task
        stats = await client.call("system.stats")
        assert stats["executor"]["running"] == 0
        assert stats["executor"]["cancelled"] >= 1
    finally:
        await client.close()


def test_cancel_as_notification(core_daemon) -> None:
    raw = Raw(core_daemon.socket)
    raw.send_msg([0, 7, "example.sleep", [{"seconds": 30.0}]])
    raw.send_msg([2, "system.cancel", [{"id": 7}]])
    answer = raw.recv()
    assert answer[1] == 7 and answer[2]["code"] == -32000


def test_cancel_of_unknown_id_says_so(core_daemon) -> None:
    with core_daemon.client() as c:
        answer = c.call("system.cancel", id=123456)
    assert answer["cancelled"] is False and "123456" in answer["reason"]


def test_deadline_is_enforced(core_daemon) -> None:
    with core_daemon.client() as c:
        with pytest.raises(DeadlineExceeded) as info:
            c.call("example.sleep", seconds=5, deadline_ms=200)
        assert info.value.code == -32001
        assert c.call("example.sleep", seconds=0.05, deadline_ms=2000) == 0.05


def test_client_timeout_cancels_the_call(core_daemon) -> None:
    with core_daemon.client() as c:
        with pytest.raises(DeadlineExceeded):
            c.call("example.spin", seconds=20, timeout=0.3)
        # the late answer of the cancelled call does not confuse the next one
        assert c.call("system.ping", payload="next") == "next"


def test_ping_answers_while_the_pool_is_busy(core_daemon) -> None:
    raw = Raw(core_daemon.socket)
    raw.send_msg([0, 1, "example.spin", [{"seconds": 1.5}]])
    for i in range(2, 12):
        raw.send_msg([0, i, "system.ping", [{"payload": i}]])
    order = []
    while len(order) < 11:
        msg = raw.recv()
        if msg[0] == 1:
            order.append(msg[1])
    assert order[-1] == 1  # every ping answered before the spin finished


def test_plugin_error_codes_travel(core_daemon) -> None:
    with core_daemon.client() as c, pytest.raises(RpcError) as info:
        c.call("example.fail", code=-33042)
    assert info.value.code == -33042
    assert info.value.data == {"asked": -33042}


def test_third_party_plugin_over_the_socket(core_daemon) -> None:
    with core_daemon.client() as c:
        assert c.call("example.greet", who="world") == "hello, world"
        plugins = {p["name"]: p for p in c.call("system.plugins")}
        assert plugins["example"]["state"] == "running"
        assert plugins["example"]["distribution"] == "catalytic-hello-example"
        hello = c.call("system.hello")
        assert hello["plugins"]["example"] == "1.1.0"
        params = hello["methods"]["example.greet"]["params"]
        assert params == [{"name": "who", "type": "str", "required": True, "doc": "Whom to greet."}]


def test_stats_count_calls_and_errors(core_daemon) -> None:
    with core_daemon.client() as c:
        for _ in range(25):
            c.call("system.ping")
        with pytest.raises(RpcError):
            c.call("example.fail")
        stats = c.call("system.stats")
    ping = stats["methods"]["system.ping"]
    assert ping["calls"] == 25 and ping["p99_us"] >= ping["p50_us"] > 0
    assert stats["methods"]["example.fail"]["errors"] == {"-33001": 1}
    assert stats["rss_bytes"] > 10 * 2**20 and stats["uptime_s"] > 0


def test_workload_recording_keeps_sizes_not_payloads(core_daemon) -> None:
    import json
    from pathlib import Path

    with core_daemon.client() as c:
        assert c.call("system.record", action="status") == {"recording": False}
        c.call("system.record", action="start", name="t1")
        c.call("example.greet", who="secret-name")
        c.call("example.sleep", seconds=0.01)
        with pytest.raises(RpcError):
            c.call("example.fail")
        assert c.call("system.record", action="status")["calls"] == 3
        saved = c.call("system.record", action="stop")
    text = Path(saved["path"]).read_text()
    lines = [json.loads(x) for x in text.splitlines()]
    assert [x["method"] for x in lines] == ["example.greet", "example.sleep", "example.fail"]
    assert lines[0]["bytes"] == len("secret-name") and "secret" not in text
    assert lines[2]["error"] == -33001 and lines[1]["latency_us"] >= 10_000


def test_a_recording_is_kept_when_it_cannot_be_saved(core_daemon) -> None:
    """A second `start` is refused while recording; a `stop` whose save fails keeps the
    recording, and a later `stop` saves all of it."""
    import json
    import os
    from pathlib import Path

    folder = core_daemon.state_dir / "workloads"
    with core_daemon.client() as c:
        c.call("system.record", action="start", name="kept")
        with pytest.raises(RpcError, match="'kept' is being recorded"):
            c.call("system.record", action="start", name="other")
        c.call("example.greet", who="a")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "kept.jsonl").mkdir()  # the save's target cannot be written
        with pytest.raises(RpcError, match="the recording is kept"):
            c.call("system.record", action="stop")
        c.call("example.greet", who="b")
        os.rmdir(folder / "kept.jsonl")
        saved = c.call("system.record", action="stop")
    lines = [json.loads(x) for x in Path(saved["path"]).read_text().splitlines()]
    assert [x["method"] for x in lines] == ["example.greet", "example.greet"]


def test_plugins_call_each_other_through_the_dispatcher(core_daemon) -> None:
    """ctx.call reaches handlers that take a Call (their progress goes nowhere)."""
    with core_daemon.client() as c:
        relayed = c.call("example.relay", method="example.spin", params={"seconds": 0.1})
        assert relayed["seconds"] == 0.1
        assert c.call("example.relay", method="system.ping", params={"payload": 3}) == 3
        with pytest.raises(RpcError) as info:
            c.call("example.relay", method="example.spin", params={"seconds": "x"})
        assert info.value.code == -32602
