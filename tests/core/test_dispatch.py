"""One dispatcher for every caller: a plugin's `ctx.call` and the HTTP side follow the
socket's rules (stats, deadlines, validation, cancellation), and the error model is one
module shared by client and daemon."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.request

import pytest

import catalytic.client
import catalytic.protocol
from catalytic.client import Cancelled, DeadlineExceeded, InvalidParams


def _calls(c, method: str) -> dict:
    return c.call("system.stats")["methods"].get(method, {"calls": 0, "errors": {}})


def test_ctx_call_is_counted_validated_and_bounded_by_its_deadline(core_daemon) -> None:
    with core_daemon.client() as c:
        before = _calls(c, "system.ping")["calls"]
        for _ in range(5):
            assert c.call("example.relay", method="system.ping", params={"payload": 1}) == 1
        assert _calls(c, "system.ping")["calls"] >= before + 5
        with pytest.raises(InvalidParams, match="who"):
            c.call("example.relay", method="example.greet", params={"who": 5})
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded):
            c.call("example.relay", method="example.sleep",
                   params={"seconds": 30, "deadline_ms": 200})
        assert time.monotonic() - started < 10
        sleep = _calls(c, "example.sleep")
        assert sleep["errors"].get("-32001") == 1


async def test_cancelling_a_call_cancels_what_it_called(core_daemon) -> None:
    client = await core_daemon.aclient()
    try:
        task = asyncio.ensure_future(client.call(
            "example.relay", method="example.sleep", params={"seconds": 30}))
        await asyncio.sleep(0.3)
        assert await client.call("system.cancel", id=max(client._pending)) == {
            "cancelled": True}
        with pytest.raises(Cancelled):
            await task
        stats = (await client.call("system.stats"))["methods"]
        assert stats["example.sleep"]["errors"].get("-32000") == 1
    finally:
        await client.close()


def test_http_api_goes_through_the_dispatcher(make_daemon, example_plugin) -> None:
    d = make_daemon({"daemon": {"plugins": [example_plugin]}})
    with d.client() as c:
        token = c.call("system.http_token")
        before = _calls(c, "system.stats")["calls"]
    request = urllib.request.Request(token["url"] + "api/stats",
                                     headers={"Authorization": f"Bearer {token['token']}"})
    for _ in range(3):
        with urllib.request.urlopen(request, timeout=10) as r:
            assert json.loads(r.read())["pid"] == d.pid
    with d.client() as c:
        assert _calls(c, "system.stats")["calls"] >= before + 3


def test_one_error_model_for_client_and_daemon() -> None:
    assert catalytic.client.InvalidParams is catalytic.protocol.InvalidParams
    from catalytic.plugins.base import RpcError as PluginRpcError

    assert PluginRpcError is catalytic.protocol.RpcError
    assert catalytic.protocol.from_map({"code": -32004, "message": "big"}).code == -32004


def test_token_and_limits_are_published(make_daemon, example_plugin) -> None:
    d = make_daemon({"daemon": {"plugins": [example_plugin]}, "http": {"enabled": False},
                     "limits": {"idle_timeout_s": 42.0}})
    with d.client() as c:
        answer = c.call("system.http_token")
        limits = c.call("system.hello")["limits"]
    assert answer["url"] is None and answer["dashboard"] is None and len(answer["token"]) >= 32
    assert limits["idle_timeout_s"] == 42.0 and limits["max_unsent_bytes"] == 64 << 20


@pytest.mark.parametrize("params, message, field", [
    ({"seconds": 61}, "seconds = 61 (example.spin): expected a number from 0 to 60", "seconds"),
    ({"seconds": "fast"}, "seconds = 'fast' (example.spin): expected a number from 0 to 60",
     "seconds"),
    ({}, "seconds = (missing) (example.spin): expected a number from 0 to 60", "seconds"),
    ({"seconds": 1, "speed": 2},
     "speed = 2 (example.spin): expected one of the params: seconds", "speed"),
])
def test_a_bad_param_has_the_shared_field_shape(core_daemon, params, message, field) -> None:
    """Over the socket a bad param is -32602 reading `<param> = <value> (<method>):
    expected <what>`, with `data.field` naming the param (as config and study specs do)."""
    with core_daemon.client() as c, pytest.raises(InvalidParams) as info:
        c.call("example.spin", **params)
    assert info.value.message == message
    assert info.value.data["field"] == field and info.value.data["where"] == "example.spin"


def test_quick_path_binds_defaults_positionally_only_when_the_signature_allows() -> None:
    from catalytic.daemon.dispatch import _bound_to

    def in_order(a: int, b: str = "x") -> tuple[int, str]:
        return a, b

    def swapped(b: str, a: int) -> tuple[int, str]:
        return a, b

    def keyword_only(*, a: int, b: str) -> tuple[int, str]:
        return a, b

    defaults = {"a": 1, "b": "y"}
    fast = _bound_to(in_order, defaults)
    assert fast.args == (1, "y") and fast() == (1, "y")  # type: ignore[attr-defined]
    for handler in (swapped, keyword_only):
        fast = _bound_to(handler, defaults)
        assert fast.keywords == defaults and fast() == (1, "y")  # type: ignore[attr-defined]
