"""One client connection: feed bytes to the decoder, dispatch, write answers.

An asyncio.Protocol (not streams) keeps the per-request cost low: inline
handlers answer within `data_received`, and all answers produced by one read
go out in one write. Async handlers run as tasks, so many calls are in flight
per connection and answers leave in whatever order they finish.
"""

from __future__ import annotations

import asyncio
import functools
import os
import socket
import struct
import time
from typing import Any

import msgpack

from catalytic.client.errors import (
    Cancelled,
    DeadlineExceeded,
    Forbidden,
    InternalError,
    InvalidParams,
    InvalidRequest,
    Overloaded,
    ParseError,
    RpcError,
    TooLarge,
)
from catalytic.client.protocol import NOTIFICATION, REQUEST, RESPONSE, first_map
from catalytic.daemon.dispatch import FAST_SAMPLE_EVERY, Entry, validate
from catalytic.daemon.state import ServerState
from catalytic.plugins.base import DEFER

PROGRESS_INTERVAL_S = 0.05
MAX_MSGID = 2**32 - 1
FAST_SAMPLE_MASK = FAST_SAMPLE_EVERY - 1
FAST_TIME_FIRST = 64
"""Quick built-ins are counted every time; their first FAST_TIME_FIRST calls are timed,
then one call in FAST_SAMPLE_EVERY: their cost is the transport's, and timing each would
cost more than the call itself."""
_CRED = struct.Struct("3i")
_packb = msgpack.Packer(use_bin_type=True, unicode_errors="surrogateescape").pack


class RequestCall:
    """The `Call` a handler receives: msgid, progress, cancellation state."""

    __slots__ = ("_last_progress", "cancel_reason", "conn", "method", "msgid", "task")

    def __init__(self, conn: Connection, msgid: int | None, method: str) -> None:
        self.conn = conn
        self.msgid = msgid
        self.method = method
        self.task: asyncio.Task[None] | None = None
        self.cancel_reason: str | None = None
        self._last_progress = 0.0

    def progress(self, done: float, total: float | None = None, message: str = "") -> None:
        now = time.monotonic()
        final = total is not None and done >= total
        if not final and now - self._last_progress < PROGRESS_INTERVAL_S:
            return
        self._last_progress = now
        self.conn.send([NOTIFICATION, "progress",
                        [{"id": self.msgid, "done": done, "total": total, "message": message}]])

    @property
    def cancelled(self) -> bool:
        return self.cancel_reason is not None

    def cancel(self, reason: str) -> None:
        if self.task is not None and not self.task.done() and self.cancel_reason is None:
            self.cancel_reason = reason
            self.task.cancel()


class Connection(asyncio.Protocol):
    def __init__(self, state: ServerState) -> None:
        self.state = state
        limits = state.limits
        self.unpacker = msgpack.Unpacker(
            raw=False, strict_map_key=False, unicode_errors="surrogateescape",
            max_buffer_size=limits.max_buffer_bytes,
            max_bin_len=limits.max_message_bytes, max_str_len=limits.max_message_bytes)
        self.transport: asyncio.Transport | None = None
        self.inflight: dict[int, RequestCall] = {}
        self.peer: tuple[int, int, int] | None = None
        self.fed = 0
        self.head = b""
        self.partial_since: float | None = None
        self.batch: list[bytes] | None = None
        self.closed = False
        self.paused_writing = False

    # -- connection lifecycle ---------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass
        st = self.state
        st.total_connections += 1
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                self.peer = _CRED.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                          _CRED.size))
            except OSError:
                self.peer = None
        if self.peer is not None and not self._peer_allowed(self.peer):
            st.refused_connections += 1
            st.log.warning("refused connection from pid %s uid %s gid %s", *self.peer)
            self.fail(Forbidden(f"uid {self.peer[1]} is not allowed to use this daemon "
                                "(security.allowed_uids / allowed_gids)"), None)
            return
        if len(st.connections) >= st.limits.max_connections:
            st.refused_connections += 1
            self.fail(Overloaded(f"too many connections (limits.max_connections = "
                                 f"{st.limits.max_connections})"), None)
            return
        st.connections.add(self)

    def _peer_allowed(self, peer: tuple[int, int, int]) -> bool:
        _pid, uid, gid = peer
        st = self.state
        return uid == os.getuid() or uid in st.allowed_uids or gid in st.allowed_gids

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.state.connections.discard(self)
        for call in list(self.inflight.values()):
            call.cancel("disconnected")

    def pause_writing(self) -> None:
        self.paused_writing = True
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        self.paused_writing = False
        if self.transport is not None and not self.closed:
            self.transport.resume_reading()

    # -- output -------------------------------------------------------------------
    def send(self, message: list[Any]) -> None:
        if self.closed or self.transport is None:
            return
        try:
            data = _packb(message)
        except (TypeError, ValueError, OverflowError) as exc:
            msgid = message[1] if message[0] == RESPONSE else None
            data = _packb([RESPONSE, msgid, InternalError(
                f"result could not be encoded as msgpack: {exc}").to_map(), None])
        if self.batch is not None:
            self.batch.append(data)
        else:
            self.transport.write(data)

    def respond(self, msgid: int | None, error: RpcError | None, result: Any = None) -> None:
        self.send([RESPONSE, msgid, None if error is None else error.to_map(), result])

    def fail(self, error: RpcError, msgid: int | None) -> None:
        """Answer one last error and close the stream (it cannot be trusted any more)."""
        self.respond(msgid, error)
        if self.batch:
            assert self.transport is not None
            self.transport.write(b"".join(self.batch))
            self.batch = None
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    # -- input --------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        limits = self.state.limits
        start_of_chunk = self.fed
        self.fed += len(data)
        try:
            self.unpacker.feed(data)
        except msgpack.BufferFull:
            self.fail(TooLarge(f"more than {limits.max_buffer_bytes} bytes of unanswered "
                               "request data buffered (limits.max_buffer_bytes)"), None)
            return
        batch: list[bytes] = []
        self.batch = batch
        boundary = self.unpacker.tell()
        table_get = self.state.dispatcher.table.get
        inflight = self.inflight
        perf = time.perf_counter
        # locals, not globals or builtins: this loop runs once per message
        pack, append, list_, int_, str_, type_, len_ = (_packb, batch.append, list, int, str,
                                                       type, len)
        mask, first, max_id = FAST_SAMPLE_MASK, FAST_TIME_FIRST, MAX_MSGID
        tell = self.unpacker.tell
        try:
            for message in self.unpacker:
                # Fast path: a well-formed request without params for a quick built-in.
                if type_(message) is list_ and len_(message) == 4:
                    kind, msgid, method, params = message
                    if kind == REQUEST and type_(params) is list_ and not params \
                            and type_(msgid) is int_ and type_(method) is str_:
                        entry = table_get(method)
                        if entry is not None and entry.fast and 0 <= msgid <= max_id \
                                and msgid not in inflight:
                            stats = entry.stats
                            stats.calls += 1
                            if stats.calls & mask and stats.calls > first:
                                result = entry.fast()
                            else:
                                started = perf()
                                result = entry.fast()
                                stats.sample(perf() - started,
                                             1 if stats.calls <= first else mask + 1)
                            append(pack([RESPONSE, msgid, None, result]))
                            boundary = tell()
                            continue
                self.handle(message)
                if self.closed:
                    return
                boundary = tell()
        except (ValueError, msgpack.UnpackException) as exc:
            self._capture_head(data, start_of_chunk, boundary)
            if "exceeds max" in str(exc):
                self.fail(TooLarge(f"message larger than limits.max_message_bytes = "
                                   f"{limits.max_message_bytes}: {exc}"), self._head_msgid())
            else:
                self.fail(ParseError(f"not a msgpack stream: {exc}"), None)
            return
        finally:
            if self.batch and self.transport is not None and not self.closed:
                self.transport.write(b"".join(self.batch))
            self.batch = None
        pending = self.fed - self.unpacker.tell()
        if pending <= 0:
            self.partial_since = None
            self.head = b""
            return
        self._capture_head(data, start_of_chunk, self.unpacker.tell())
        if self.partial_since is None:
            self.partial_since = time.monotonic()
        if pending > limits.max_message_bytes:
            self.fail(TooLarge(f"message larger than limits.max_message_bytes = "
                               f"{limits.max_message_bytes}"), self._head_msgid())

    def _capture_head(self, data: bytes, start_of_chunk: int, boundary: int) -> None:
        """Keep the first bytes of the message starting at `boundary` (to name its msgid)."""
        if boundary >= start_of_chunk:
            offset = boundary - start_of_chunk
            self.head = data[offset:offset + 64]
        elif len(self.head) < 64:
            self.head += data[: 64 - len(self.head)]

    def _head_msgid(self) -> int | None:
        """The msgid of the message being received, read from its first bytes."""
        try:
            up = msgpack.Unpacker(raw=False)
            up.feed(self.head)
            if up.read_array_header() == 4 and up.unpack() == REQUEST:
                msgid = up.unpack()
                return msgid if isinstance(msgid, int) else None
        except Exception:
            return None
        return None

    def handle(self, msg: Any) -> None:
        if not isinstance(msg, list | tuple) or not msg:
            self.respond(None, InvalidRequest(f"a message must be an array "
                                              f"[type, ...], got {type(msg).__name__}"))
            return
        kind = msg[0]
        if kind == REQUEST:
            if len(msg) != 4:
                self.respond(None, InvalidRequest("a request is [0, msgid, method, params]"))
                return
            _, msgid, method, params = msg
            if isinstance(msgid, bool) or not isinstance(msgid, int) or not 0 <= msgid <= MAX_MSGID:
                self.respond(None, InvalidRequest(f"msgid must be an unsigned 32-bit integer, "
                                                  f"got {msgid!r:.40}"))
                return
            if not isinstance(method, str):
                self.respond(msgid, InvalidRequest(f"method must be a string, got "
                                                   f"{type(method).__name__}"))
                return
            if not isinstance(params, list | tuple) or (
                    params and not isinstance(params[0], dict)) or len(params) > 1:
                self.respond(msgid, InvalidParams(
                    "params must be an array holding at most one map of named arguments"))
                return
            self.request(msgid, method, dict(params[0]) if params else {})
        elif kind == NOTIFICATION:
            if len(msg) != 3 or not isinstance(msg[1], str):
                self.respond(None, InvalidRequest("a notification is [2, method, params]"))
                return
            self.notification(msg[1], first_map(msg[2]))
        elif kind == RESPONSE:
            self.state.log.debug("ignored a response sent by a client")
        else:
            self.respond(None, InvalidRequest(f"unknown message type {kind!r:.20}"))

    def notification(self, method: str, params: dict[str, Any]) -> None:
        if method == "system.cancel":
            target = self.inflight.get(params.get("id"))  # type: ignore[arg-type]
            if target is not None:
                target.cancel("cancelled by the client")
            return
        try:
            entry = self.state.dispatcher.entry(method)
            kwargs = validate(entry, params)
        except RpcError as exc:
            self.state.log.info("notification %s ignored: %s", method, exc)
            return
        call = RequestCall(self, None, method)
        if entry.inline:
            try:
                entry.handler(call, **kwargs) if entry.wants_call else entry.handler(**kwargs)
            except Exception:
                self.state.log.exception("notification %s failed", method)
        else:
            call.task = asyncio.get_running_loop().create_task(self.run(entry, call, kwargs, None))

    def request(self, msgid: int, method: str, params: dict[str, Any]) -> None:
        st = self.state
        started = time.perf_counter()
        entry: Entry | None = None
        if msgid in self.inflight:  # answered without a msgid: the first call owns it
            self.respond(None, InvalidRequest(
                f"msgid {msgid} is already in flight on this connection", {"msgid": msgid}))
            return
        try:
            entry = st.dispatcher.entry(method)
            deadline = params.pop("deadline_ms", None)
            if deadline is not None and (isinstance(deadline, bool) or not isinstance(
                    deadline, int | float) or deadline <= 0):
                raise InvalidParams(f"deadline_ms must be a positive number, got {deadline!r}")
            kwargs = validate(entry, params)
            if entry.method.heavy and st.overloaded:
                raise Overloaded(f"{method} refused: "
                                 f"{st.overload_reason or 'memory above hard limit'}")
            call = RequestCall(self, msgid, method)
            if (entry.inline or entry.quick is not None) and \
                    self.answer_now(entry, call, kwargs, started):
                return
            if len(self.inflight) >= st.limits.max_inflight:
                raise Overloaded(f"too many requests in flight on this connection "
                                 f"(limits.max_inflight = {st.limits.max_inflight})")
            self.inflight[msgid] = call
            timeout = None if deadline is None else deadline / 1000.0
            call.task = asyncio.get_running_loop().create_task(
                self.run(entry, call, kwargs, timeout))
            call.task.add_done_callback(functools.partial(self.cancelled_early, call, entry))
        except RpcError as exc:
            if entry is not None:
                entry.stats.record(time.perf_counter() - started, exc.code)
            self.respond(msgid, exc)
        except Exception as exc:
            st.log.exception("%s failed", method)
            if entry is not None:
                entry.stats.record(time.perf_counter() - started, InternalError.code)
            self.respond(msgid, InternalError(f"{method} failed: {type(exc).__name__}: {exc}"))

    def answer_now(self, entry: Entry, call: RequestCall, kwargs: dict[str, Any],
                   started: float) -> bool:
        """Run a plain handler, or a plugin's quick method, on the loop; False when the
        quick method DEFERs to its async handler. Counted and recorded as `run` does."""
        fn = entry.handler if entry.inline else entry.quick
        assert fn is not None
        error: RpcError | None = None
        result: Any = None
        try:
            result = fn(call, **kwargs) if entry.wants_call else fn(**kwargs)
        except RpcError as exc:
            error = exc
        except Exception as exc:
            self.state.log.exception("%s failed", entry.name)
            error = InternalError(f"{entry.name} failed: {type(exc).__name__}: {exc}")
        if result is DEFER and error is None:
            return False
        self.account(entry, kwargs, time.perf_counter() - started, error)
        self.respond(call.msgid, error, result)
        return True

    def account(self, entry: Entry, kwargs: dict[str, Any], elapsed: float,
                error: RpcError | None) -> None:
        """Count a handled call in its method's stats and in a running `system.record`."""
        code = None if error is None else error.code
        entry.stats.record(elapsed, code)
        if self.state.recorder is not None:
            self.state.recorder.add(entry.name, kwargs, elapsed, code)

    def cancelled_early(self, call: RequestCall, entry: Entry, _task: object = None) -> None:
        """A task cancelled before it ran never answered: answer for it."""
        if call.msgid is not None and self.inflight.get(call.msgid) is call:
            del self.inflight[call.msgid]
            entry.stats.record(0.0, Cancelled.code)
            if call.cancel_reason != "disconnected":
                self.respond(call.msgid, Cancelled(
                    f"{entry.name} was cancelled: {call.cancel_reason or 'shutdown'}"))

    async def run(self, entry: Entry, call: RequestCall, kwargs: dict[str, Any],
                  timeout: float | None) -> None:
        started = time.perf_counter()
        error: RpcError | None = None
        result: Any = None
        try:
            coro = entry.handler(call, **kwargs) if entry.wants_call else entry.handler(**kwargs)
            if timeout is None:
                result = await coro
            else:
                try:
                    result = await asyncio.wait_for(coro, timeout)
                except TimeoutError:
                    call.cancel_reason = "deadline"
                    raise DeadlineExceeded(f"{entry.name} did not finish within its deadline of "
                                           f"{timeout * 1000:g} ms") from None
        except RpcError as exc:
            error = exc
        except asyncio.CancelledError:
            error = Cancelled(f"{entry.name} was cancelled: {call.cancel_reason or 'shutdown'}")
        except Exception as exc:
            self.state.log.exception("%s failed", entry.name)
            error = InternalError(f"{entry.name} failed: {type(exc).__name__}: {exc}")
        self.account(entry, kwargs, time.perf_counter() - started, error)
        if call.msgid is not None:
            self.inflight.pop(call.msgid, None)
            if call.cancel_reason != "disconnected":
                self.respond(call.msgid, error, result)
