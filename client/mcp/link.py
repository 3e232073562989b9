"""The MCP server's one connection to the daemon: connect on first use, read capabilities.

A call that finds the daemon gone reconnects once (auto-starting it when
allowed, as the CLI does); what the daemon can do is read from `system.hello`'s
method schemas, so tools use newer verbs and params only where they exist.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from catalytic.client.aio import AsyncClient
from catalytic.client.errors import DaemonNotRunning, ProtocolMismatch, RpcError

log = logging.getLogger("catalytic.mcp")

ProgressSink = Callable[[float, float | None, str | None], Awaitable[None]]
"""Receives (done, total, message) for each progress notification of a call."""


class ToolFailure(Exception):
    """A call failed in a way the agent should see: the daemon's error, or no daemon."""

    def __init__(self, message: str, code: int | None = None, kind: str = "daemon") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.kind = kind

    def as_map(self) -> dict[str, Any]:
        return {"error": self.kind, "code": self.code, "message": self.message}


class DaemonLink:
    """Lazily connected `AsyncClient` shared by every tool call of one MCP session."""

    def __init__(self, socket_path: str | os.PathLike[str] | None = None, *,
                 autostart: bool = True, timeout: float | None = None) -> None:
        self.socket_path = socket_path
        self.autostart = autostart
        self.timeout = timeout
        self._client: AsyncClient | None = None
        self._lock = asyncio.Lock()
        self.graphs: dict[str, tuple[str, Any]] = {}
        """document → (revision, its task graph): kept by the task tools between calls."""

    async def client(self) -> AsyncClient:
        async with self._lock:
            if self._client is None:
                client = AsyncClient(self.socket_path, autostart=self.autostart,
                                     timeout=self.timeout)
                try:
                    await client.connect()
                except (DaemonNotRunning, OSError) as exc:
                    await client.close()
                    how = "" if self.autostart else " (auto-start is off)"
                    raise ToolFailure(f"the catalytic daemon is not running and could not be "
                                      f"started{how}: {exc}", kind="not-running") from None
                except ProtocolMismatch as exc:
                    await client.close()
                    raise ToolFailure(str(exc), kind="protocol") from None
                self._client = client
            return self._client

    @property
    def hello(self) -> dict[str, Any]:
        """The daemon's `system.hello` answer (after the first call)."""
        assert self._client is not None and self._client.hello_info is not None
        return self._client.hello_info

    async def has_method(self, method: str) -> bool:
        await self.client()
        return method in self.hello.get("methods", {})

    async def param(self, method: str, name: str) -> dict[str, Any] | None:
        """The schema `system.hello` publishes for `method`'s param `name`, if it has one."""
        await self.client()
        spec = self.hello.get("methods", {}).get(method) or {}
        return next((p for p in spec.get("params", []) if p.get("name") == name), None)

    async def has_param(self, method: str, name: str) -> bool:
        return await self.param(method, name) is not None

    async def call(self, method: str, params: dict[str, Any] | None = None, *,
                   progress: ProgressSink | None = None) -> Any:
        """Call the daemon; its errors become `ToolFailure` with the daemon's code and message.

        Progress notifications are forwarded in order through `progress`;
        cancelling the calling task cancels the daemon call (`system.cancel`).
        """
        for attempt in (1, 2):
            client = await self.client()
            try:
                return await self._call(client, method, params, progress)
            except DaemonNotRunning as exc:
                await self.drop()
                if attempt == 2:
                    raise ToolFailure(f"lost the connection to the daemon: {exc}",
                                      kind="not-running") from None
            except RpcError as exc:
                raise ToolFailure(exc.message, exc.code) from None
        raise AssertionError("unreachable")

    async def _call(self, client: AsyncClient, method: str, params: dict[str, Any] | None,
                    progress: ProgressSink | None) -> Any:
        if progress is None:
            return await client.call(method, params)
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

        async def pump() -> None:
            while (item := await queue.get()) is not None:
                try:
                    await progress(float(item.get("done") or 0), _number(item.get("total")),
                                   item.get("message") or None)
                except Exception as exc:  # a progress note that cannot be sent loses no answer
                    log.debug("progress not forwarded: %r", exc)

        forwarder = asyncio.create_task(pump())
        try:
            return await client.call(method, params, progress=queue.put_nowait)
        finally:
            queue.put_nowait(None)
            try:
                # Progress always precedes the answer: let the last notes out first.
                await asyncio.shield(forwarder)
            except asyncio.CancelledError:
                forwarder.cancel()
                raise

    async def drop(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.close()

    async def close(self) -> None:
        await self.drop()


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) else None
