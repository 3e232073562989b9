"""The whole tool list fits the context budget an agent pays for it."""

from __future__ import annotations

import json

from mcp import Client

from catalytic.client.mcp.budget import TOOLS_TOKEN_BUDGET, _cl100k, count_tokens, tools_json
from catalytic.client.mcp.link import DaemonLink
from catalytic.client.mcp.server import build_server


def test_counting_is_cl100k() -> None:
    # OpenAI's cl100k_base ids for "hello world", offline.
    assert _cl100k().encode("hello world") == [15339, 1917]
    assert count_tokens("hello world") == 2
    assert count_tokens('{"name":"next_task"}') == 6


async def test_tool_list_fits_the_budget(tmp_path) -> None:
    async with Client(build_server(DaemonLink(tmp_path / "none.sock", autostart=False))) as c:
        tools = (await c.list_tools()).tools
    wire = tools_json(tools)
    tokens = count_tokens(wire)
    assert tokens <= TOOLS_TOKEN_BUDGET, f"tool list is {tokens} cl100k tokens"
    for tool in json.loads(wire):
        description = tool["description"]
        assert 20 <= len(description) <= 200, tool["name"]
        assert tool["inputSchema"]["type"] == "object"
