"""`Client`: the blocking face of the msgpack-rpc core, one socket, one thread."""

from __future__ import annotations

import os
import socket
import time
from types import TracebackType
from typing import Any

from catalytic.client.discover import connect_unix, ensure_daemon, resolve_socket
from catalytic.client.errors import DaemonNotRunning, DeadlineExceeded, from_map
from catalytic.client.protocol import (
    ClientProtocol,
    Notification,
    NotificationCallback,
    ProgressCallback,
    Response,
    check_hello,
    encode_notification,
)


class Client:
    """Blocking client: `with Client() as c: c.call("system.ping")`.

    Notifications that are not progress for the current call go to
    `on_notification`. Not thread-safe: use one Client per thread.
    """

    def __init__(self, socket_path: str | os.PathLike[str] | None = None, *,
                 timeout: float | None = None, autostart: bool = False,
                 check_version: bool = True,
                 on_notification: NotificationCallback | None = None) -> None:
        self.socket_path = resolve_socket(socket_path)
        self.timeout = timeout
        if autostart:
            ensure_daemon(self.socket_path)
        self._sock: socket.socket | None = connect_unix(self.socket_path)
        self._proto = ClientProtocol()
        self._done: dict[int, Response] = {}
        self.on_notification = on_notification
        self.hello_info: dict[str, Any] | None = None
        if check_version:
            self.hello_info = self.call("system.hello")
            check_hello(self.hello_info)

    def call(self, method: str, params: dict[str, Any] | None = None, /, *,
             timeout: float | None = None, progress: ProgressCallback | None = None,
             **kw: Any) -> Any:
        """Call `method` with named params (a dict, keywords, or both) and wait for the result."""
        merged = {**(params or {}), **kw}
        msgid, data = self._proto.request(method, merged)
        sock = self._require()
        try:
            sock.sendall(data)
        except ConnectionError as exc:
            self.close()
            raise DaemonNotRunning(f"the connection to the daemon failed: {exc}") from exc
        return self._wait(msgid, self.timeout if timeout is None else timeout, progress)

    def notify(self, method: str, params: dict[str, Any] | None = None, /, **kw: Any) -> None:
        """Send a notification (no answer)."""
        self._require().sendall(encode_notification(method, {**(params or {}), **kw}))

    def _require(self) -> socket.socket:
        if self._sock is None:
            raise DaemonNotRunning("client is closed")
        return self._sock

    def _wait(self, msgid: int, timeout: float | None,
              progress: ProgressCallback | None) -> Any:
        sock = self._require()
        deadline = None if timeout is None else time.monotonic() + timeout
        while msgid not in self._done:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    self._cancel(msgid)
                    raise DeadlineExceeded(f"no answer within {timeout:g} s (call cancelled)")
                sock.settimeout(left)
            else:
                sock.settimeout(None)
            try:
                chunk = sock.recv(1 << 20)
            except TimeoutError:
                continue
            except ConnectionError as exc:
                self.close()
                raise DaemonNotRunning(f"the connection to the daemon failed: {exc}") from exc
            if not chunk:
                self.close()
                raise DaemonNotRunning("the daemon closed the connection")
            for event in self._proto.feed(chunk):
                if isinstance(event, Response):
                    self._done[event.msgid] = event
                else:
                    self._notification(event, msgid, progress)
        response = self._done.pop(msgid)
        if response.error is not None:
            raise from_map(response.error)
        return response.result

    def _notification(self, event: Notification, msgid: int,
                      progress: ProgressCallback | None) -> None:
        if event.method == "progress" and event.params.get("id") == msgid and progress:
            progress(event.params)
        elif self.on_notification is not None:
            self.on_notification(event.method, event.params)

    def _cancel(self, msgid: int) -> None:
        try:
            self.notify("system.cancel", id=msgid)
        except OSError:
            pass

    # -- conveniences for the workspace cache ----------------------------------------
    def ws_put(self, data: bytes, key: str | None = None, ttl_s: float | None = None) -> str:
        """Store `data` in the workspace; returns its key (BLAKE2b-256 of the data by default)."""
        params: dict[str, Any] = {"data": data}
        if key is not None:
            params["key"] = key
        if ttl_s is not None:
            params["ttl_s"] = ttl_s
        return str((self.call("workspace.put", params))["key"])

    def ws_get(self, key: str) -> bytes | None:
        """The bytes stored under `key`, or None on a miss."""
        data = (self.call("workspace.get", key=key))["data"]
        return None if data is None else bytes(data)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
