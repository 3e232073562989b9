"""`AsyncClient`: the asyncio face of the msgpack-rpc core; many calls in flight."""

from __future__ import annotations

import asyncio
import os
from types import TracebackType
from typing import Any

from catalytic.client.discover import RETRY_ERRNOS, ensure_daemon, read_status, resolve_socket
from catalytic.client.errors import DaemonNotRunning, DeadlineExceeded, from_map
from catalytic.client.protocol import (
    ClientProtocol,
    NotificationCallback,
    ProgressCallback,
    Response,
    check_hello,
    encode_notification,
)


class AsyncClient:
    """`async with AsyncClient() as c: await c.call("system.ping")`.

    Responses are matched by msgid, so calls may be issued concurrently from
    many tasks on one connection.
    """

    def __init__(self, socket_path: str | os.PathLike[str] | None = None, *,
                 timeout: float | None = None, autostart: bool = False,
                 check_version: bool = True,
                 on_notification: NotificationCallback | None = None) -> None:
        self.socket_path = resolve_socket(socket_path)
        self.timeout = timeout
        self.autostart = autostart
        self.check_version = check_version
        self.on_notification = on_notification
        self.hello_info: dict[str, Any] | None = None
        self._proto = ClientProtocol()
        self._pending: dict[int, asyncio.Future[Response]] = {}
        self._progress: dict[int, ProgressCallback] = {}
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None

    async def connect(self) -> AsyncClient:
        if self.autostart:
            await asyncio.to_thread(ensure_daemon, self.socket_path)
        try:
            reader, self._writer = await asyncio.open_unix_connection(
                str(self.socket_path), limit=1 << 24)
        except OSError as exc:
            if exc.errno in RETRY_ERRNOS:
                status = read_status(self.socket_path)
                why = "no daemon is listening"
                if status is not None and not status.alive():
                    why = f"the daemon (pid {status.pid}) is gone; its socket is stale"
                raise DaemonNotRunning(f"{why} on {self.socket_path}") from exc
            raise
        self._reader_task = asyncio.create_task(self._read_loop(reader))
        if self.check_version:
            self.hello_info = await self.call("system.hello")
            check_hello(self.hello_info)
        return self

    async def _read_loop(self, reader: asyncio.StreamReader) -> None:
        error: BaseException = DaemonNotRunning("the daemon closed the connection")
        try:
            while True:
                chunk = await reader.read(1 << 20)
                if not chunk:
                    break
                for event in self._proto.feed(chunk):
                    if isinstance(event, Response):
                        fut = self._pending.pop(event.msgid, None)
                        self._progress.pop(event.msgid, None)
                        if fut is not None and not fut.done():
                            fut.set_result(event)
                    elif event.method == "progress" and event.params.get("id") in self._progress:
                        self._progress[event.params["id"]](event.params)
                    elif self.on_notification is not None:
                        self.on_notification(event.method, event.params)
        except (OSError, ValueError) as exc:
            error = DaemonNotRunning(f"connection to the daemon failed: {exc}")
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(error)
        self._pending.clear()

    async def call(self, method: str, params: dict[str, Any] | None = None, /, *,
                   timeout: float | None = None, progress: ProgressCallback | None = None,
                   **kw: Any) -> Any:
        """Call `method` and await its result; cancelling this task cancels the call."""
        if self._writer is None:
            raise DaemonNotRunning("client is not connected (use `async with` or connect())")
        if self._reader_task is not None and self._reader_task.done():
            # Nothing would ever answer: the read loop ended with the connection.
            raise DaemonNotRunning("the daemon closed the connection")
        msgid, data = self._proto.request(method, {**(params or {}), **kw})
        fut: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        self._pending[msgid] = fut
        if progress is not None:
            self._progress[msgid] = progress
        self._writer.write(data)
        limit = self.timeout if timeout is None else timeout
        try:
            response = await asyncio.wait_for(fut, limit) if limit is not None else await fut
        except TimeoutError:
            self._forget(msgid)
            raise DeadlineExceeded(f"no answer within {limit:g} s (call cancelled)") from None
        except asyncio.CancelledError:
            self._forget(msgid)
            raise
        if response.error is not None:
            raise from_map(response.error)
        return response.result

    def _forget(self, msgid: int) -> None:
        self._pending.pop(msgid, None)
        self._progress.pop(msgid, None)
        if self._writer is not None and not self._writer.is_closing():
            self._writer.write(encode_notification("system.cancel", {"id": msgid}))

    async def notify(self, method: str, params: dict[str, Any] | None = None, /,
                     **kw: Any) -> None:
        if self._writer is None:
            raise DaemonNotRunning("client is not connected")
        self._writer.write(encode_notification(method, {**(params or {}), **kw}))
        await self._writer.drain()

    # -- conveniences for the workspace cache ----------------------------------------
    async def ws_put(self, data: bytes, key: str | None = None, ttl_s: float | None = None) -> str:
        """Store `data` in the workspace; returns its key (BLAKE2b-256 of the data by default)."""
        params: dict[str, Any] = {"data": data}
        if key is not None:
            params["key"] = key
        if ttl_s is not None:
            params["ttl_s"] = ttl_s
        return str((await self.call("workspace.put", params))["key"])

    async def ws_get(self, key: str) -> bytes | None:
        """The bytes stored under `key`, or None on a miss."""
        data = (await self.call("workspace.get", key=key))["data"]
        return None if data is None else bytes(data)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except OSError:
                pass
            self._writer = None
        if self._reader_task is not None:
            self._reader_task.cancel()
            try:
                await self._reader_task
            except (asyncio.CancelledError, Exception):
                pass

    async def __aenter__(self) -> AsyncClient:
        return await self.connect()

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()
