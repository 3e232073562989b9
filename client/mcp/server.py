"""The MCP server object: tool declarations, their descriptions, and result shaping.

Descriptions are written for a model and kept short: the whole tool list is
held under a token budget (tests/mcp/test_budget.py). Every tool answers a
structured map (and the same map as compact JSON text for clients that read
only text); a failure is a tool error carrying the daemon's code and message.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, TextContent
from pydantic import Field

from catalytic.client.mcp import status as status_ops
from catalytic.client.mcp import tasks as task_ops
from catalytic.client.mcp import testing as test_ops
from catalytic.client.mcp.link import DaemonLink, ProgressSink, ToolFailure

log = logging.getLogger("catalytic.mcp")

Status = Literal["pending", "in-progress", "blocked", "done", "cancelled", "deferred"]
Select = Literal["all", "affected", "affected-first"]
Doc = Annotated[str, Field(description="Document name given to parse_prd")]
TaskId = Annotated[str, Field(description="Task id")]

INSTRUCTIONS = ("catalytic: a local daemon. Turn a PRD into a task graph (parse_prd), work "
                "through it (next_task, get_task, set_task_status), run the tests an edit "
                "affects (run_tests) and keep artifacts (cache_put/cache_get). Deterministic.")


def result(payload: dict[str, Any]) -> CallToolResult:
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=str)
    return CallToolResult(content=[TextContent(type="text", text=text)],
                          structured_content=payload)


def failure(exc: ToolFailure) -> CallToolResult:
    code = f" {exc.code}" if exc.code is not None else ""
    return CallToolResult(content=[TextContent(type="text", text=f"error{code}: {exc.message}")],
                          structured_content=exc.as_map(), is_error=True)


async def answer(work: Awaitable[dict[str, Any]]) -> CallToolResult:
    try:
        return result(await work)
    except ToolFailure as exc:
        log.info("tool error: %s (code %s)", exc.message, exc.code)
        return failure(exc)


def progress_of(ctx: Context) -> ProgressSink:
    async def sink(done: float, total: float | None, message: str | None) -> None:
        await ctx.report_progress(done, total, message)

    return sink


LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


def build_server(link: DaemonLink, version: str = "", log_level: LogLevel = "WARNING"
                 ) -> MCPServer:
    """An `MCPServer` whose tools forward to the daemon behind `link`."""
    server = MCPServer("catalytic", version=version, instructions=INSTRUCTIONS,
                       log_level=log_level)

    @server.tool(description="Decompose a PRD (file path or text) into a stored task graph; "
                             "re-parsing is incremental. Returns counts, top-level task ids, "
                             "warnings, revision.")
    async def parse_prd(ctx: Context, document: Doc = "default", path: str | None = None,
                        text: str | None = None) -> CallToolResult:
        return await answer(task_ops.parse_prd(link, path=path, text=text, document=document,
                                               progress=progress_of(ctx)))

    @server.tool(description="List tasks (id, title, status, priority), optionally by status, "
                             "paged.")
    async def get_tasks(document: Doc = "default", status: Status | None = None,
                        offset: Annotated[int, Field(ge=0)] = 0,
                        limit: Annotated[int, Field(ge=1, le=500)] = 50) -> CallToolResult:
        return await answer(task_ops.get_tasks(link, document=document, status=status,
                                               offset=offset, limit=limit))

    @server.tool(description="One task in full, with its subtasks and dependencies' status.")
    async def get_task(id: TaskId, document: Doc = "default") -> CallToolResult:
        return await answer(task_ops.get_task(link, document=document, task_id=id))

    @server.tool(description="The next task to work on (dependencies done, by priority) "
                             "and why. Call after finishing one.")
    async def next_task(document: Doc = "default") -> CallToolResult:
        return await answer(task_ops.next_task(link, document=document))

    @server.tool(description="Set a task's status (durable).")
    async def set_task_status(id: TaskId, status: Status,
                              document: Doc = "default") -> CallToolResult:
        return await answer(task_ops.set_task_status(link, document=document, task_id=id,
                                                     status=status))

    @server.tool(description="A task's subtree of subtasks from the graph.")
    async def expand_task(id: TaskId, document: Doc = "default") -> CallToolResult:
        return await answer(task_ops.expand_task(link, document=document, task_id=id))

    @server.tool(description="Run a project's pytest suite (affected tests first when "
                             "supported). Returns counts, duration and only the failures "
                             "with short tracebacks.")
    async def run_tests(ctx: Context,
                        root: Annotated[str, Field(description="Project folder")],
                        select: Select | None = None,
                        args: Annotated[list[str] | None,
                                        Field(description="Extra pytest args")] = None,
                        python: Annotated[str | None, Field(
                            description="Interpreter; default root/.venv/bin/python")] = None,
                        ) -> CallToolResult:
        return await answer(test_ops.run_tests(link, root=root, select=select,
                                               args=args or [], python=python,
                                               progress=progress_of(ctx)))

    @server.tool(description="Store an artifact (text or base64) under a key in the "
                             "workspace cache.")
    async def cache_put(key: str, text: str | None = None, base64: str | None = None,
                        ttl_s: Annotated[float | None,
                                         Field(description="Expire after seconds")] = None,
                        ) -> CallToolResult:
        return await answer(status_ops.cache_put(link, key=key, text=text, base64_data=base64,
                                                 ttl_s=ttl_s))

    @server.tool(description="Fetch an artifact by key: text, or base64 for binary; found=false "
                             "on a miss.")
    async def cache_get(key: str) -> CallToolResult:
        return await answer(status_ops.cache_get(link, key=key))

    @server.tool(description="Daemon version, plugins, dashboard URL and load.")
    async def daemon_status() -> CallToolResult:
        return await answer(status_ops.daemon_status(link))

    return server
