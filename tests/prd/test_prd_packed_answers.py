"""Answers encoded off the loop (`catalytic.protocol.Packed`) reach every kind of caller
as the value they encode: in-process callers through `Dispatcher.invoke` get it decoded
(socket callers are covered by every other prd test, which go through the client)."""

from __future__ import annotations

import asyncio

from catalytic.daemon.dispatch import Dispatcher
from catalytic.plugins.base import Method
from catalytic.plugins.prd.answer_wire import packed_answer


def test_invoke_decodes_a_packed_answer() -> None:
    answer = {"tasks": [{"id": f"t{i}", "dependencies": []} for i in range(50)], "total": 50}

    async def handler() -> object:
        return packed_answer(answer)

    d = Dispatcher()
    d.register("demo", Method("packed", ()), handler)
    assert asyncio.run(d.invoke("demo.packed", {})) == answer
