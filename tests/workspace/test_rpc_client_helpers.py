"""The client's workspace conveniences, over a real daemon."""

from __future__ import annotations

import asyncio


def test_ws_put_and_get(make_daemon) -> None:
    d = make_daemon({"daemon": {"plugins": ["workspace"]}})
    with d.client() as c:
        key = c.ws_put(b"artifact bytes")
        assert len(key) == 64 and c.ws_get(key) == b"artifact bytes"
        assert c.ws_put(b"x", key="named/one") == "named/one"
        assert c.ws_get("named/one") == b"x"
        assert c.ws_get("never/stored") is None

    async def run() -> None:
        client = await d.aclient()
        try:
            key = await client.ws_put(b"from asyncio", key="aio/one")
            assert await client.ws_get(key) == b"from asyncio"
        finally:
            await client.close()

    asyncio.run(run())
