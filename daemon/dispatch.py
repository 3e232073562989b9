"""The dispatcher: the method table and the rules every call follows, whoever makes it.

A call comes from a socket connection (`serve`, for the decoded messages of
one read), from the HTTP side or from a plugin's `ctx.call` (`invoke`, which
is awaited). Either way it goes through the same steps here: find the method,
validate its params and deadline, refuse heavy calls while overloaded, count
it against its session's `limits.max_inflight`, run it (a plain or `quick`
method on the loop, else a task), map what it raised to a documented error
code, and count it in the method's stats and in a running `system.record`.
Cancellation lives here too: by msgid (`system.cancel`), when a session
closes, and at shutdown.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import msgpack

from catalytic.daemon.calls import RequestCall, Send, Session
from catalytic.daemon.internal_tokens import TOKEN_PARAM, InternalTokens
from catalytic.daemon.method_stats import LATENCY_WINDOW, MethodStats
from catalytic.daemon.validate import validate
from catalytic.plugins.base import DEFER, Method
from catalytic.protocol.errors import (
    Cancelled,
    DeadlineExceeded,
    Forbidden,
    InternalError,
    InvalidParams,
    InvalidRequest,
    MethodNotFound,
    Overloaded,
    RpcError,
    TooLarge,
)
from catalytic.protocol.wire import (
    MAX_MSGID,
    NOTIFICATION,
    REQUEST,
    RESPONSE,
    Packed,
    first_map,
)

if TYPE_CHECKING:
    from catalytic.daemon.state import ServerState

__all__ = ["LATENCY_WINDOW", "Dispatcher", "Entry", "FrameError", "MethodStats",
           "error_for", "validate"]

FAST_SAMPLE_EVERY = 16
FAST_SAMPLE_MASK = FAST_SAMPLE_EVERY - 1
FAST_TIME_FIRST = 64
"""Quick built-ins are counted every time; their first FAST_TIME_FIRST calls are timed,
then one call in FAST_SAMPLE_EVERY: their cost is the transport's, and timing each would
cost more than the call itself."""
FLUSH_BYTES = 256 << 10
"""Answers gathered from one read are handed to the transport once they reach this size,
so a peer that does not read is noticed before the next message is answered."""

INTERNAL_PREFIX = "internal."
"""Names of internal verbs (`@rpc(..., internal=True)`) begin with this."""
REFUSED = frozenset({InvalidParams.code, Forbidden.code, TooLarge.code, Overloaded.code})
"""Codes of calls refused before their work began: not recorded as workload."""

_packb = msgpack.Packer(use_bin_type=True, unicode_errors="surrogateescape").pack


@dataclass(slots=True)
class Entry:
    """One routable method."""

    name: str
    plugin: str
    method: Method
    handler: Callable[..., Any]
    inline: bool
    """Plain functions run on the loop without a task; async ones get a task."""
    wants_call: bool
    stats: MethodStats = field(default_factory=MethodStats)
    defaults: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments for a call without params."""
    quick: Callable[..., Any] | None = None
    """The plugin's `Method.quick` method, tried before a task is made for the handler."""
    fast: Callable[[], Any] | None = None
    """For inline handlers with nothing required, not heavy and no Call: the handler bound
    to its defaults, which `Dispatcher.serve` calls directly."""

    def __post_init__(self) -> None:
        self.defaults = {p.name: p.default for p in self.method.params}
        if (self.inline and not self.wants_call and not self.method.heavy
                and not any(p.required for p in self.method.params)):
            self.fast = _bound_to(self.handler, self.defaults)

    def schema(self) -> dict[str, Any]:
        return {"params": [p.schema() for p in self.method.params], "doc": self.method.doc,
                "heavy": self.method.heavy}


def _bound_to(handler: Callable[..., Any], defaults: dict[str, Any]) -> Callable[[], Any]:
    """`handler` with `defaults` bound, positionally when its signature takes them in that
    order (a call through a keyword partial builds a dict each time: this is the quick
    path's hottest call)."""
    try:
        params = list(inspect.signature(handler).parameters.values())
    except (TypeError, ValueError):
        params = []
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if len(params) >= len(defaults) and [p.name for p in params[:len(defaults)]] == list(
            defaults) and all(p.kind in positional for p in params[:len(defaults)]):
        return functools.partial(handler, *defaults.values())
    return functools.partial(handler, **defaults)


class FrameError(Exception):
    """The byte stream broke while decoding; `boundary` is where the broken message began."""

    def __init__(self, cause: Exception, boundary: int) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.boundary = boundary


def error_for(name: str, exc: BaseException, log: Any) -> RpcError:
    """The documented error for what a handler raised: a caller's mistake is never -32603."""
    if isinstance(exc, RpcError):
        return exc
    if isinstance(exc, ValueError) and "null byte" in str(exc):
        return InvalidParams(f"{name}: a string argument contains a NUL byte ({exc})")
    if isinstance(exc, UnicodeEncodeError):
        return InvalidParams(f"{name}: a string argument is not valid UTF-8 ({exc.reason})")
    if isinstance(exc, RecursionError):
        return TooLarge(f"{name}: the input is nested too deeply to process")
    log.error("%s failed", name, exc_info=exc)
    return InternalError(f"{name} failed: {type(exc).__name__}: {exc}")


class Dispatcher:
    """The method table (duplicate names refused) and the rules of every call."""

    def __init__(self) -> None:
        self.table: dict[str, Entry] = {}
        self.started = time.monotonic()
        self.state: ServerState | None = None
        """Limits, overload flag, recorder and log; set when the ServerState is made."""
        self.sessions: set[Session] = set()
        self.internal = Session("internal", limited=False)
        """The daemon's own session: plugins calling each other (`ctx.call`)."""
        self.tokens = InternalTokens()
        """Tokens that open internal verbs, issued to processes plugins start."""

    # -- the table ------------------------------------------------------------------------
    def register(self, plugin: str, method: Method, handler: Callable[..., Any]) -> None:
        name = f"{INTERNAL_PREFIX}{plugin}.{method.verb}" if method.internal else \
            f"{plugin}.{method.verb}"
        if name in self.table:
            raise ValueError(f"method {name} registered twice")
        sig = inspect.signature(handler)
        wants_call = "call" in sig.parameters
        inline = not inspect.iscoroutinefunction(handler)
        quick = None
        if method.quick:
            quick = getattr(getattr(handler, "__self__", None), method.quick, None)
            if not callable(quick) or inspect.iscoroutinefunction(quick):
                raise ValueError(f"method {name}: quick={method.quick!r} must name a plain "
                                 "(not async) method of the plugin")
        self.table[name] = Entry(name, plugin, method, handler, inline, wants_call, quick=quick)

    def unregister_plugin(self, plugin: str) -> None:
        for name in [n for n, e in self.table.items() if e.plugin == plugin]:
            del self.table[name]

    def entry(self, name: str) -> Entry:
        try:
            return self.table[name]
        except (KeyError, TypeError):
            raise MethodNotFound(f"method {name!r:.80} not found; `system.hello` lists the "
                                 "methods", {"method": name}) from None

    def schemas(self) -> dict[str, Any]:
        """The public methods (internal ones are for the daemon's own processes)."""
        return {name: entry.schema() for name, entry in sorted(self.table.items())
                if not entry.method.internal}

    # -- sessions and cancellation ----------------------------------------------------------
    def open_session(self, label: str, send: Send | None = None) -> Session:
        session = Session(label, send)
        self.sessions.add(session)
        return session

    def close_session(self, session: Session, reason: str = "disconnected") -> None:
        """The caller left: nothing is sent to it any more and all it started is cancelled."""
        session.open = False
        self.sessions.discard(session)
        for call in list(session.inflight.values()):
            call.cancel(reason)

    def cancel(self, session: Session, msgid: Any, reason: str = "cancelled by the client"
               ) -> bool:
        """Cancel the call `msgid` of this session; False when it has none in flight."""
        if type(msgid) is not int:
            return False
        call = session.inflight.get(msgid)
        if call is None:
            return False
        call.cancel(reason)  # a second cancel of a call still winding down is a no-op
        return True

    def cancel_all(self, reason: str) -> None:
        for session in [*self.sessions, self.internal]:
            for call in list(session.inflight.values()):
                call.cancel(reason)

    def tasks(self) -> list[asyncio.Task[None]]:
        """Every task of a call in flight (shutdown waits for them)."""
        return [c.task for s in [*self.sessions, self.internal] for c in s.inflight.values()
                if c.task is not None and not c.task.done()]

    # -- the rules ------------------------------------------------------------------------
    def admit(self, method: str, params: dict[str, Any]) -> tuple[Entry, dict[str, Any],
                                                                   float | None]:
        """Find, validate and check overload: the handler's kwargs and deadline (s)."""
        entry = self.entry(method)
        if entry.method.internal:
            token = params.pop(TOKEN_PARAM, None) if params else None
            if not self.tokens.allows(token, entry.plugin):
                raise Forbidden(f"{method} is internal: only a process the daemon started "
                                f"may call it (the call needs a live {TOKEN_PARAM})")
        deadline = params.pop("deadline_ms", None) if params else None
        if deadline is not None and (isinstance(deadline, bool) or not isinstance(
                deadline, int | float) or not 0 < deadline < 1e12):
            raise InvalidParams(f"deadline_ms must be a positive number, got {deadline!r:.40}")
        try:
            kwargs = validate(entry, params)
        except RpcError:
            raise
        except Exception as exc:  # a value no declaration could judge: still the caller's
            raise InvalidParams(f"{entry.name}: params could not be read: "
                                f"{type(exc).__name__}") from None
        st = self.state
        if entry.method.heavy and st is not None and st.overloaded:
            raise Overloaded(f"{method} refused: "
                             f"{st.overload_reason or 'memory above hard limit'}")
        return entry, kwargs, None if deadline is None else deadline / 1000.0

    def _room(self, session: Session) -> None:
        st = self.state
        if session.limited and st is not None and \
                len(session.inflight) >= st.limits.max_inflight:
            raise Overloaded(f"too many requests in flight on this connection "
                             f"(limits.max_inflight = {st.limits.max_inflight})")

    def _now(self, entry: Entry, call: RequestCall, kwargs: dict[str, Any]
             ) -> tuple[bool, Any, RpcError | None]:
        """Run a plain handler, or a plugin's quick method, on the loop. (False, ...) when
        the quick method DEFERs to its async handler; else counted and recorded."""
        fn = entry.handler if entry.inline else entry.quick
        assert fn is not None
        started = time.perf_counter()
        error: RpcError | None = None
        result: Any = None
        try:
            result = fn(call, **kwargs) if entry.wants_call else fn(**kwargs)
        except Exception as exc:
            error = error_for(entry.name, exc, self._log())
        if result is DEFER and error is None:
            return False, None, None
        self.account(entry, kwargs, time.perf_counter() - started, error)
        return True, result, error

    async def _execute(self, entry: Entry, call: RequestCall, kwargs: dict[str, Any],
                       timeout: float | None, *, reraise_cancel: bool
                       ) -> tuple[Any, RpcError | None]:
        """Await the handler under its deadline; its result, or the error to answer."""
        started = time.perf_counter()
        error: RpcError | None = None
        result: Any = None
        try:
            coro = entry.handler(call, **kwargs) if entry.wants_call else entry.handler(**kwargs)
            if timeout is None:
                result = await coro
            else:
                scope = asyncio.timeout(timeout)
                try:
                    async with scope:
                        result = await coro
                except TimeoutError:
                    if not scope.expired():
                        raise
                    call.cancel_reason = "deadline"
                    raise DeadlineExceeded(f"{entry.name} did not finish within its deadline "
                                           f"of {timeout * 1000:g} ms") from None
        except asyncio.CancelledError:
            if reraise_cancel and call.cancel_reason is None:
                self.account(entry, kwargs, time.perf_counter() - started, Cancelled(""))
                raise
            error = Cancelled(f"{entry.name} was cancelled: {call.cancel_reason or 'shutdown'}")
        except Exception as exc:
            error = error_for(entry.name, exc, self._log())
        self.account(entry, kwargs, time.perf_counter() - started, error)
        return result, error

    def account(self, entry: Entry, kwargs: dict[str, Any], elapsed: float,
                error: RpcError | None) -> None:
        """Count a call in its method's stats and, when its handler accepted it, in a
        running `system.record` (a call refused for its params is no workload)."""
        code = None if error is None else error.code
        entry.stats.record(elapsed, code)
        st = self.state
        if st is not None and st.recorder is not None and code not in REFUSED:
            st.recorder.add(entry.name, kwargs, elapsed, code)

    def _log(self) -> logging.Logger:
        return self.state.log if self.state is not None else logging.getLogger("catalytic")

    # -- awaited callers: plugins (`ctx.call`) and HTTP --------------------------------------
    async def invoke(self, method: str, params: dict[str, Any] | None = None, *,
                     session: Session | None = None) -> Any:
        """Call `method` under every rule and return its result (or raise its RpcError).
        Cancelling the awaiting task cancels the call."""
        session = session or self.internal
        entry: Entry | None = None
        started = time.perf_counter()
        try:
            entry, kwargs, timeout = self.admit(method, dict(params or {}))
            call = RequestCall(session, None, method)
            answered = False
            if entry.inline or entry.quick is not None:
                answered, result, error = self._now(entry, call, kwargs)
            if not answered:
                self._room(session)
        except RpcError as exc:
            if entry is not None:
                entry.stats.record(time.perf_counter() - started, exc.code)
            raise
        if answered:
            if error is not None:
                raise error
            return result
        key = call.key
        session.inflight[key] = call
        try:
            result, error = await self._execute(entry, call, kwargs, timeout,
                                                reraise_cancel=True)
        finally:
            session.inflight.pop(key, None)
        if error is not None:
            raise error
        return result.decode() if type(result) is Packed else result

    # -- the socket: decoded messages in, answers out ------------------------------------------
    def serve(self, session: Session, messages: Iterator[Any], tell: Callable[[], int],
              out: list[bytes], flush: Callable[[], None], boundary: int) -> int:
        """Answer every complete message `messages` yields, until the session is blocked
        (its peer is not reading) or closed. Quick built-ins without params answer inline
        into `out`; everything else goes through `message`. Returns the stream offset where
        the first message not yet answered begins (`boundary` is where it began before);
        raises FrameError when the stream cannot be decoded."""
        table_get = self.table.get
        inflight = session.inflight
        perf = time.perf_counter
        # locals, not globals or builtins: this loop runs once per message
        pack, append, list_, int_, str_, type_, len_ = (_packb, out.append, list, int, str,
                                                       type, len)
        mask, first, max_id, flush_at = FAST_SAMPLE_MASK, FAST_TIME_FIRST, MAX_MSGID, FLUSH_BYTES
        size = 0
        try:
            for message in messages:
                # Quick path: a well-formed request without params for a quick built-in.
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
                            data = pack([RESPONSE, msgid, None, result])
                            append(data)
                            boundary = tell()
                            size += len_(data)
                            if size > flush_at:
                                size = 0
                                flush()
                                if session.blocked or not session.open:
                                    return boundary
                            continue
                self.message(session, message)
                boundary = tell()
                if session.blocked or not session.open:
                    return boundary
        except (ValueError, TypeError, msgpack.UnpackException) as exc:
            raise FrameError(exc, boundary) from exc
        return boundary

    def message(self, session: Session, msg: Any) -> None:
        """One decoded message of a socket peer: a request, a notification or a mistake."""
        send = session.send
        assert send is not None
        if type(msg) is not list or not msg:
            send([RESPONSE, None, InvalidRequest(
                f"a message must be an array [type, ...], got {type(msg).__name__}").to_map(),
                None])
            return
        kind = msg[0]
        if kind == REQUEST and type(kind) is int:
            msgid = msg[1] if len(msg) > 1 else None
            readable = msgid if type(msgid) is int and 0 <= msgid <= MAX_MSGID else None
            if len(msg) != 4:
                self._refuse(session, readable, InvalidRequest(
                    "a request is [0, msgid, method, params]"))
                return
            _, msgid, method, params = msg
            if readable is None:
                self._refuse(session, None, InvalidRequest(
                    f"msgid must be an unsigned 32-bit integer, got {msgid!r:.40}"))
                return
            if type(method) is not str:
                self._refuse(session, msgid, InvalidRequest(
                    f"method must be a string, got {type(method).__name__}"))
                return
            if type(params) is not list or (params and type(params[0]) is not dict) \
                    or len(params) > 1:
                self._refuse(session, msgid, InvalidParams(
                    "params must be an array holding at most one map of named arguments"))
                return
            self.request(session, msgid, method, dict(params[0]) if params else {})
        elif kind == NOTIFICATION and type(kind) is int:
            if len(msg) != 3 or type(msg[1]) is not str:
                self._refuse(session, None, InvalidRequest("a notification is [2, method, "
                                                           "params]"))
                return
            self.notification(session, msg[1], first_map(msg[2]))
        elif kind == RESPONSE and type(kind) is int:
            self._log().debug("ignored a response sent by a client")
        else:
            self._refuse(session, None, InvalidRequest(f"unknown message type {kind!r:.20}"))

    @staticmethod
    def _refuse(session: Session, msgid: int | None, error: RpcError) -> None:
        assert session.send is not None
        session.send([RESPONSE, msgid, error.to_map(), None])

    def request(self, session: Session, msgid: int, method: str, params: dict[str, Any]) -> None:
        """A request from a socket peer: answered now, or by the task it starts."""
        send = session.send
        assert send is not None
        started = time.perf_counter()
        entry: Entry | None = None
        if msgid in session.inflight:
            send([RESPONSE, msgid, InvalidRequest(
                f"msgid {msgid} is already in flight on this connection; this request was "
                "refused, the first one still runs", {"msgid": msgid}).to_map(), None])
            return
        try:
            entry, kwargs, timeout = self.admit(method, params)
            call = RequestCall(session, msgid, method)
            if entry.inline or entry.quick is not None:
                answered, result, error = self._now(entry, call, kwargs)
                if answered:
                    send([RESPONSE, msgid, None if error is None else error.to_map(), result])
                    return
            self._room(session)
            session.inflight[msgid] = call
            call.task = asyncio.get_running_loop().create_task(
                self._run(entry, call, kwargs, timeout))
            call.task.add_done_callback(functools.partial(self._never_ran, call, entry))
        except RpcError as exc:
            if entry is not None:
                entry.stats.record(time.perf_counter() - started, exc.code)
            send([RESPONSE, msgid, exc.to_map(), None])

    def notification(self, session: Session, method: str, params: dict[str, Any]) -> None:
        """A notification: run like a request (and counted in flight), answered to nobody."""
        log = self._log()
        entry: Entry | None = None
        try:
            entry, kwargs, timeout = self.admit(method, params)
            call = RequestCall(session, None, method)
            if entry.inline or entry.quick is not None:
                answered, _result, error = self._now(entry, call, kwargs)
                if answered:
                    if error is not None:
                        log.debug("notification %s failed: %s", method, error)
                    return
            self._room(session)
        except RpcError as exc:
            if entry is not None:
                entry.stats.record(0.0, exc.code)
            log.debug("notification %.80s ignored: %s", method, exc)  # a flood must not flood
            # the log too; system.stats counts the refusals by code
            return
        key = call.key
        session.inflight[key] = call
        call.task = asyncio.get_running_loop().create_task(self._run(entry, call, kwargs,
                                                                     timeout))
        call.task.add_done_callback(functools.partial(self._never_ran, call, entry))

    async def _run(self, entry: Entry, call: RequestCall, kwargs: dict[str, Any],
                   timeout: float | None) -> None:
        result, error = await self._execute(entry, call, kwargs, timeout, reraise_cancel=False)
        session = call.session
        if session.inflight.get(call.key) is call:
            del session.inflight[call.key]
        if call.msgid is not None and session.open and session.send is not None:
            session.send([RESPONSE, call.msgid, None if error is None else error.to_map(),
                          result])

    def _never_ran(self, call: RequestCall, entry: Entry, _task: object = None) -> None:
        """A task cancelled before it started never answered: answer for it."""
        session = call.session
        if session.inflight.get(call.key) is call:
            del session.inflight[call.key]
            entry.stats.record(0.0, Cancelled.code)
            if call.msgid is not None and session.open and session.send is not None:
                session.send([RESPONSE, call.msgid, Cancelled(
                    f"{entry.name} was cancelled: {call.cancel_reason or 'shutdown'}").to_map(),
                    None])
