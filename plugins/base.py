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

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar

from catalytic.config.model import Setting
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

__all__ = [
    "Call",
    "Cancelled",
    "DeadlineExceeded",
    "Executor",
    "Forbidden",
    "InternalError",
    "InvalidParams",
    "JobCancelled",
    "Method",
    "Overloaded",
    "Param",
    "Plugin",
    "PluginContext",
    "Reporter",
    "RpcError",
    "Setting",
    "TooLarge",
    "rpc",
]

T = TypeVar("T")

PARAM_TYPES = ("str", "int", "float", "number", "bool", "bin", "list", "map", "any")
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


DEFER: Any = object()
"""What a `quick` method returns when the call needs its async handler."""

HANDLER_ATTR = "__catalytic_rpc__"


def rpc(verb: str, *params: Param, doc: str = "", heavy: bool = False,
        quick: str = "") -> Callable[[T], T]:
    """Mark an `async def` method of a plugin as the RPC verb `<plugin>.<verb>`."""
    names = [p.name for p in params]
    if len(names) != len(set(names)):
        raise ValueError(f"rpc {verb}: duplicate param names {names}")

    def mark(fn: T) -> T:
        setattr(fn, HANDLER_ATTR, Method(verb, tuple(params), doc or (fn.__doc__ or "").strip(),
                                         heavy, quick))
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
    """Given to executor jobs submitted with `progress=`: report and check for cancellation."""

    def report(self, done: float, total: float | None = None, message: str = "") -> None:
        """Report progress; raises `JobCancelled` when the call was cancelled."""

    def cancelled(self) -> bool:
        """True when the call was cancelled (for jobs that prefer to check)."""


ProgressFn = Callable[[float, float | None, str], None]


class Executor(Protocol):
    """Where CPU-heavy work runs: the daemon's process pool (or a cluster).

    `fn` and its arguments must be picklable (module-level functions). When
    `progress` is given, `fn` is called with an extra keyword argument
    `report: Reporter`. Cancelling the awaiting task cancels the job.
    """

    workers: int

    async def submit(self, fn: Callable[..., T], *args: Any,
                     progress: ProgressFn | None = None, **kwargs: Any) -> T: ...

    async def map(self, fn: Callable[[Any], T], items: Iterable[Any], *,
                  progress: ProgressFn | None = None,
                  label: Callable[[Any], str] | None = None) -> list[T]:
        """`fn(item)` for every item, as jobs in that order; results in that order. Each
        finished job is reported to `progress`, with `label(item)` as its message."""
        ...


@dataclass
class PluginContext:
    """What the daemon gives a plugin at start."""

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
