"""Internal methods (`@rpc(..., internal=True)`): routed as `internal.<plugin>.<verb>`,
unlisted, and refused (-32003) to every caller without a live token issued to that plugin,
whichever way the call comes (socket, another plugin's `ctx.call`)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from catalytic.client import Forbidden as ClientForbidden
from catalytic.daemon.dispatch import Dispatcher
from catalytic.plugins.base import Forbidden, InvalidParams, Param, Plugin, PluginContext, rpc


class Demo(Plugin):
    name = "demo"

    @rpc("open", doc="For anybody.")
    async def open_(self) -> str:
        return "open"

    @rpc("secret", Param("n", "int"), doc="For the plugin's own processes.", internal=True)
    async def secret(self, n: int) -> int:
        return n + 1


def _dispatcher() -> Dispatcher:
    d = Dispatcher()
    demo = Demo()
    for verb, method in Demo.methods().items():
        d.register("demo", method, getattr(demo, Demo.handler_name(verb)))
    return d


async def test_only_a_live_token_of_the_plugin_opens_its_internal_verbs(tmp_path) -> None:
    d = _dispatcher()
    assert set(d.table) == {"demo.open", "internal.demo.secret"}
    assert list(d.schemas()) == ["demo.open"]
    ctx = PluginContext(name="demo", config={}, state_dir=tmp_path, executor=None,  # type: ignore[arg-type]
                        metrics=None, log=logging.getLogger("t"), call=d.invoke,
                        tokens=d.tokens)
    other = PluginContext(name="other", config={}, state_dir=tmp_path, executor=None,  # type: ignore[arg-type]
                          metrics=None, log=logging.getLogger("t"), call=d.invoke,
                          tokens=d.tokens)
    token = ctx.issue_token()
    foreign = other.issue_token()
    with pytest.raises(Forbidden, match=r"internal\.demo\.secret is internal"):
        await d.invoke("internal.demo.secret", {"n": 1})  # the daemon's own session too
    for bad in ("", "x" * 32, foreign, 7):
        with pytest.raises(Forbidden):
            await d.invoke("internal.demo.secret", {"n": 1, "internal_token": bad})
    assert await d.invoke("internal.demo.secret", {"n": 1, "internal_token": token}) == 2
    with pytest.raises(InvalidParams, match="internal_token"):  # not a param of public verbs
        await d.invoke("demo.open", {"internal_token": token})
    ctx.revoke_token(token)
    with pytest.raises(Forbidden):
        await d.invoke("internal.demo.secret", {"n": 1, "internal_token": token})


def test_a_plugin_calling_an_internal_verb_without_a_token_is_refused(
        make_daemon: Any, example_plugin: str) -> None:
    d = make_daemon({"daemon": {"plugins": [example_plugin, "testrun"]}})
    with d.client() as c:
        assert not [m for m in c.call("system.hello")["methods"] if m.startswith("internal.")]
        with pytest.raises(ClientForbidden, match="internal"):
            c.call("example.relay", method="internal.testrun.pull",
                   params={"run": "x", "worker": "w0", "results": []})
        with pytest.raises(ClientForbidden, match="internal"):
            c.call("internal.testrun.pull", {"run": "x", "worker": "w0", "results": []})
