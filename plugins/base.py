"""The whole plugin contract of catalytic, in one file.

A plugin is a class registered in the entry-point namespace `catalytic.plugins`:

    class Hello(Plugin):
        name = "hello"
        version = "1.0"
        settings = (Setting("greeting", "str", "hi", "What to say."),)

        @rpc("greet", Param("who", "str"), doc="Greet somebody.")
        async def greet(self, call: Call, who: str) -> str:
            return f"{self.ctx.config['greeting']}, {who}"

The daemon validates params against the `Param` declarations before the handler
runs (and publishes them in `system.hello`), passes them as keyword arguments
(optional ones get their default), and sends the return value (any msgpack
value) back. Raise an `RpcError` subclass to answer with its code. Handlers are
`async def`: quick work inline; blocking I/O via `asyncio.to_thread`; CPU-heavy
work via `self.ctx.executor` (never a pool of the plugin's own).

Lifecycle: `start(ctx)` → `restore()` → serve → `snapshot()` (also every
`daemon.snapshot_interval_s`) → `stop()`. Anything acknowledged to a client must
already be durable when the handler returns; snapshots are only for warmth.
"""

from __future__ import annotations

import contextvars
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from catalytic.config.model import Setting
from catalytic.protocol import fields
from catalytic.protocol.errors import (
    Cancelled,
    DeadlineExceeded,
    Forbidden,
    InternalError,
    InvalidParams,
    Overloaded,
    RpcError,
    TooLarge,
)
from catalytic.protocol.fields import FieldError

if TYPE_CHECKING:
    from catalytic.daemon.admission import MemoryGauge
    from catalytic.daemon.internal_tokens import InternalTokens

Migration = str | Callable[[sqlite3.Connection], None]
"""One schema step of `PluginContext.sqlite`: an SQL script, or a function given the
connection inside the step's transaction (it must not commit)."""

__all__ = [
    "Call",
    "Cancelled",
    "DeadlineExceeded",
    "Executor",
    "FieldError",
    "Forbidden",
    "InternalError",
    "InvalidParams",
    "JobCancelled",
    "Method",
    "Migration",
    "Overloaded",
    "Param",
    "Plugin",
    "PluginContext",
    "Reporter",
    "RpcError",
    "Setting",
    "TooLarge",
    "current_job",
    "read_params",
    "rpc",
]

T = TypeVar("T")

PARAM_TYPES = fields.TYPES
"""`number` accepts int or float; `bin` accepts msgpack bin (bytes)."""


@dataclass(frozen=True)
class Param:
    """One named parameter of an RPC method, validated by the dispatcher."""

    name: str
    type: str = "any"
    required: bool = True
    default: Any = None
    doc: str = ""
    choices: tuple[Any, ...] | None = None
    min: float | None = None
    max: float | None = None
    items: str | None = None
    """Element type for `list` params (one of PARAM_TYPES), checked per element."""
    nullable: bool = False

    def __post_init__(self) -> None:
        if self.type not in PARAM_TYPES:
            raise ValueError(f"param {self.name}: unknown type {self.type!r}")
        if self.items is not None and self.items not in PARAM_TYPES:
            raise ValueError(f"param {self.name}: unknown item type {self.items!r}")

    def schema(self) -> dict[str, Any]:
        """The param as published by `system.hello`."""
        out: dict[str, Any] = {"name": self.name, "type": self.type, "required": self.required}
        if not self.required:
            out["default"] = self.default
        for key in ("doc", "choices", "min", "max", "items"):
            value = getattr(self, key)
            if value not in (None, ""):
                out[key] = list(value) if isinstance(value, tuple) else value
        if self.nullable:
            out["nullable"] = True
        return out

    def expected(self) -> str:
        """What the param accepts, as error messages say it."""
        return fields.describe(self.type, choices=self.choices, min=self.min, max=self.max,
                               items=self.items)

    def check(self, value: Any, where: str, field: str = "") -> Any:
        """The value to pass on (the default for None when allowed); raises FieldError
        naming `field` (the param's name unless given) when it does not fit."""
        if value is None and (self.nullable or not self.required):
            return None if self.nullable else self.default
        return fields.check(field or self.name, value, where, self.type, choices=self.choices,
                            min=self.min, max=self.max, items=self.items)


def read_params(declared: Sequence[Param], given: Mapping[str, Any], where: str,
                prefix: str = "", strict: bool = True) -> dict[str, Any]:
    """Check a map against declared params (a spec's fields, a config table): each value
    checked or defaulted; missing required and (when strict) unknown keys raise FieldError.
    `prefix` names nested maps in messages (`termination.`)."""
    known = {p.name for p in declared}
    if strict:
        for key in given:
            if key not in known:
                raise FieldError(f"{prefix}{key}", given[key], where,
                                        "one of the fields " + ", ".join(sorted(known)))
    out: dict[str, Any] = {}
    for p in declared:
        if p.name not in given and p.required:
            raise FieldError(f"{prefix}{p.name}", fields.MISSING, where, p.expected())
        out[p.name] = p.check(given.get(p.name), where, prefix + p.name)
    return out


def P(name: str, type: str = "any", **kw: Any) -> Param:
    """Shorthand for `Param`."""
    return Param(name, type, **kw)


@dataclass(frozen=True)
class Method:
    """What `@rpc` attaches to a handler."""

    verb: str
    params: tuple[Param, ...]
    doc: str = ""
    heavy: bool = False
    """Heavy calls are refused with -32002 while memory is above the hard limit."""
    quick: str = ""
    """Name of a plain method of the plugin, same arguments as the handler, that the
    connection tries first: it answers at once when it can (no I/O, no await) or returns
    `DEFER`, and then the `async def` handler runs as usual."""
    internal: bool = False
    """For processes the plugin starts, not for people: routed as `internal.<plugin>.<verb>`,
    left out of `system.hello`, and refused (-32003) unless the call carries a live token
    the plugin issued (`PluginContext.issue_token`)."""


DEFER: Any = object()
"""What a `quick` method returns when the call needs its async handler."""

HANDLER_ATTR = "__catalytic_rpc__"


def rpc(verb: str, *params: Param, doc: str = "", heavy: bool = False,
        quick: str = "", internal: bool = False) -> Callable[[T], T]:
    """Mark an `async def` method of a plugin as the RPC verb `<plugin>.<verb>`
    (`internal.<plugin>.<verb>` with `internal=True`)."""
    names = [p.name for p in params]
    if len(names) != len(set(names)):
        raise ValueError(f"rpc {verb}: duplicate param names {names}")

    def mark(fn: T) -> T:
        setattr(fn, HANDLER_ATTR, Method(verb, tuple(params), doc or (fn.__doc__ or "").strip(),
                                         heavy, quick, internal))
        return fn

    return mark


class Call(Protocol):
    """The request a handler is serving: its id and a way to report progress."""

    msgid: int | None
    method: str

    def progress(self, done: float, total: float | None = None, message: str = "") -> None:
        """Send a `progress` notification to the connection that asked (rate-limited)."""

    @property
    def cancelled(self) -> bool:
        """True once the caller cancelled or the deadline passed."""


class JobCancelled(Exception):
    """Raised inside an executor job by `Reporter.report` once the call was cancelled."""


class Reporter(Protocol):
    """What an executor job receives as `report=`: report progress, check for cancellation."""

    def report(self, done: float, total: float | None = None, message: str = "") -> None:
        """Report progress; raises `JobCancelled` when the call was cancelled."""

    def cancelled(self) -> bool:
        """True when the call was cancelled (for jobs that prefer to check)."""


ProgressFn = Callable[[float, float | None, str], None]


class _NoJob:
    """`current_job()` outside an executor job: never cancelled, reports go nowhere."""

    def report(self, done: float, total: float | None = None, message: str = "") -> None:
        pass

    def cancelled(self) -> bool:
        return False


_NO_JOB = _NoJob()
_current_job: contextvars.ContextVar[Reporter | None] = contextvars.ContextVar(
    "catalytic_current_job", default=None)


def current_job() -> Reporter:
    """The `Reporter` of the executor job running in this thread, whether or not it was
    submitted with progress: deep code of a job checks `current_job().cancelled()` (or
    calls `report`) without threading `report=` through. Outside a job it is never
    cancelled."""
    return _current_job.get() or _NO_JOB


class Executor(Protocol):
    """Where CPU-heavy work runs: the daemon's process pool (or a cluster).

    Jobs: `fn` and its arguments must be picklable (module-level functions, plain data);
    errors `fn` raises come back unchanged.

    Progress and cancellation: a job asked for progress (`submit(..., progress=fn)`,
    `map(..., report=True)`) is called with an extra keyword argument `report: Reporter`.
    Every job is cancellable: cancelling the awaiting task (the caller's `system.cancel`,
    a deadline, a disconnect) drops a job that has not started, and a running job stops
    at its next `report()` (which raises `JobCancelled`); a job submitted without
    progress reaches the same Reporter through `current_job()`. A job that never looks
    runs to its end, its result discarded. A plugin never needs to know which backend runs
    its jobs: ask `same_host` or `cluster` instead.
    """

    @property
    def workers(self) -> int:
        """How many jobs run at once (pool processes, cluster threads): the fan-out width."""
        ...

    @property
    def same_host(self) -> bool:
        """True when jobs run on this machine and see the daemon's files (the local pool,
        a cluster started on this host); False when they may run elsewhere, so a job must
        be given its data, not a path."""
        ...

    @property
    def cluster(self) -> bool:
        """True when jobs run on a cluster's workers (Dask) rather than the daemon's own
        pool: static sharding across `workers` pays off, and a job may be retried on
        another worker after a crash."""
        ...

    async def submit(self, fn: Callable[..., T], *args: Any,
                     progress: ProgressFn | None = None, **kwargs: Any) -> T:
        """`fn(*args, **kwargs)` as one job; with `progress`, also `report=` whose steps
        are passed to `progress(done, total, message)` on the loop (rate-limited)."""
        ...

    async def map(self, fn: Callable[..., T], items: Iterable[Any], *,
                  args: Sequence[Any] = (), kwargs: Mapping[str, Any] | None = None,
                  progress: ProgressFn | None = None,
                  label: Callable[[Any], str] | None = None,
                  report: bool = False) -> list[T]:
        """`fn(item, *args, **kwargs)` for every item, one job each; results in item order.

        `args`/`kwargs` are shared by every job. `progress(done, total, message)` counts
        jobs: `total` is the number of items, `done` the finished ones, `message` the
        `label(item)` of the job that moved. With `report=True` each job also receives
        `report: Reporter`, and its steps move the count by fractions (a job halfway
        through counts 0.5), the message being `"<label>: <job's message>"`.

        All or nothing: when one job fails, every other job of the map is cancelled
        and the first error is raised; when the awaiting task is cancelled, every job
        is cancelled. At most a few jobs per worker are handed to the backend at a time,
        so cancelling never leaves a long queue running.
        """
        ...


@dataclass
class PluginContext:
    """What the daemon gives a plugin at start: its config, its state directory, and the
    services every plugin uses instead of writing its own (storage, atomic files, caller
    paths, memory admission, the executor)."""

    name: str
    config: dict[str, Any]
    """The plugin's validated config section (every declared key present)."""
    state_dir: Path
    """The plugin's own directory under the state dir (created, 0700)."""
    executor: Executor
    metrics: Any
    """A prometheus_client CollectorRegistry; name metrics `catalytic_<plugin>_...`."""
    log: logging.Logger
    call: Callable[[str, dict[str, Any]], Awaitable[Any]]
    """Call another method through the dispatcher (plugins never import each other)."""
    daemon_config: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The whole effective configuration, read-only."""
    socket_path: Path | None = None
    """The daemon's socket, for helpers (e.g. test workers) that call back."""
    durability: str = "normal"
    """`daemon.durability`: "normal" (a commit survives the daemon's crash) or "full"
    (also an OS crash or power loss)."""
    memory: MemoryGauge | None = None
    """The governor's budget and current RSS, read by `admit` (None: no admission)."""
    tokens: InternalTokens | None = None
    """The daemon's live tokens for internal verbs (see `issue_token`)."""

    def sqlite(self, name: str, migrations: Sequence[Migration], *,
               synchronous: str | None = None) -> sqlite3.Connection:
        """Open `<state_dir>/<name>` in WAL mode and bring its schema up to date.

        `PRAGMA user_version` is the schema version: the number of `migrations` applied.
        A migration is an SQL script or a function of the connection; each pending one
        runs in a transaction of its own (a function must not commit). A database with a
        newer version than `len(migrations)` is refused (`SchemaTooNew`, naming the file
        and both versions), so the plugin fails to start rather than misread it.

        Migration 1 must accept a database made by a release before schema versions
        (`user_version` 0 with its tables already there): write it with
        `CREATE TABLE IF NOT EXISTS` / `CREATE INDEX IF NOT EXISTS`. Never edit a
        migration once released; append a new one.

        `synchronous` defaults to the daemon's durability ("NORMAL" or "FULL"); pass
        "FULL" for a store whose every commit must survive power loss. The connection
        is autocommit (`isolation_level=None`; use `BEGIN`/`COMMIT` for transactions),
        usable from any thread (guard it with a lock; run slow queries through
        `asyncio.to_thread`), and the plugin closes it in `stop()`.
        """
        from catalytic.daemon.store import SYNCHRONOUS, open_store

        level = synchronous or SYNCHRONOUS.get(self.durability, "NORMAL")
        return open_store(self._own(name), migrations, synchronous=level)

    def atomic_write(self, path: Path, data: bytes) -> None:
        """Replace the file `path` with `data` atomically and durably, for the plugin's
        own files: a unique temporary name in the same directory, file fsync, rename,
        directory fsync. Readers see the old or the new content, never a mix; a crash
        leaves no partial file. Blocking: call it through `asyncio.to_thread` for large
        data or on a hot path."""
        from catalytic.daemon.store import atomic_write

        atomic_write(Path(path), data)

    def resolve_path(self, path: str, setting: str, *, must_exist: bool = False) -> Path:
        """A path a caller named, resolved and checked against the roots of `setting`.

        `setting` is a `path_list` setting of this plugin (e.g. "allowed_roots"). The
        path must be an absolute string without NUL bytes (else `InvalidParams`, -32602);
        symlinks and `..` are resolved; it must lie under one of the roots (resolved the
        same way; a root itself counts) else `Forbidden` (-32003) naming
        `<plugin>.<setting>` and never saying whether the file exists. With
        `must_exist`, a missing file inside the roots is `InvalidParams` naming it.
        """
        from catalytic.daemon.caller_paths import resolve_under

        roots = self.config.get(setting)
        if not isinstance(roots, list):
            raise KeyError(f"{self.name}.{setting} is not a path_list setting of this plugin")
        return resolve_under(path, roots, f"{self.name}.{setting}", must_exist=must_exist)

    def admit(self, nbytes: int, what: str) -> None:
        """Memory admission before a call allocates about `nbytes`: raises `TooLarge`
        (-32004) when that alone exceeds `daemon.memory_budget`, `Overloaded` (-32002)
        when the daemon's current RSS plus `nbytes` would; both name `what` and the
        limit. Cheap (RSS is sampled, at most a few ms old): call it on every such call.
        """
        from catalytic.daemon.admission import admit

        admit(self.memory, nbytes, what)

    def issue_token(self) -> str:
        """A token that lets a process this plugin starts call the plugin's internal verbs
        (pass it as the call's `internal_token`); `revoke_token` it when the process is
        done. Only the daemon and the processes given the token know it."""
        if self.tokens is None:
            raise RuntimeError(f"plugin {self.name}: this context issues no tokens")
        return self.tokens.issue(self.name)

    def revoke_token(self, token: str) -> None:
        """The processes given `token` are done: it opens nothing any more."""
        if self.tokens is not None:
            self.tokens.revoke(token)

    def _own(self, name: str) -> Path:
        if not name or "/" in name or "\x00" in name or name in (".", ".."):
            raise ValueError(f"store name {name!r} must be a plain file name")
        return self.state_dir / name


class Plugin:
    """Base class of every plugin; override what you need."""

    name: ClassVar[str] = ""
    version: ClassVar[str] = "0"
    settings: ClassVar[Sequence[Setting]] = ()
    ctx: PluginContext

    async def start(self, ctx: PluginContext) -> None:
        """Open stores and start background tasks. Raise to refuse to start."""
        self.ctx = ctx

    async def stop(self) -> None:
        """Release everything; called once, after the last snapshot."""

    async def restore(self) -> None:
        """Come back warm from what `snapshot` left (called right after `start`)."""

    async def snapshot(self) -> None:
        """Save warm state (hot keys, memo tables) so a restart is warm."""

    def stats(self) -> dict[str, Any]:
        """Cheap figures for `system.stats`, the monitor and `/metrics`."""
        return {}

    def memory_bytes(self) -> int:
        """Estimated bytes of memory this plugin holds (for the memory governor)."""
        return 0

    async def shrink(self, target_bytes: int) -> int:
        """Free memory down to about `target_bytes`; return the bytes freed."""
        return 0

    async def reload(self, config: dict[str, Any]) -> None:
        """Apply a new config section after SIGHUP / `system.reload`."""
        self.ctx.config = config

    def health_problems(self) -> list[str]:
        """Problems `/healthz` reports (503 while there is any), each a short sentence;
        cheap, called on every health check."""
        return []

    def http_routes(self) -> Sequence[tuple[str, str, Callable[..., Awaitable[Any]]]]:
        """(HTTP method, path, aiohttp handler) tuples the daemon mounts on its HTTP server."""
        return ()

    @classmethod
    def methods(cls) -> dict[str, Method]:
        """The RPC verbs this class declares, by verb."""
        out: dict[str, Method] = {}
        for attr in dir(cls):
            fn = getattr(cls, attr, None)
            method = getattr(fn, HANDLER_ATTR, None)
            if isinstance(method, Method):
                if method.verb in out:
                    raise ValueError(f"plugin {cls.name}: verb {method.verb!r} declared twice")
                out[method.verb] = method
        return out

    @classmethod
    def handler_name(cls, verb: str) -> str:
        """The attribute name of the handler for `verb`."""
        for attr in dir(cls):
            method = getattr(getattr(cls, attr, None), HANDLER_ATTR, None)
            if isinstance(method, Method) and method.verb == verb:
                return attr
        raise KeyError(verb)
