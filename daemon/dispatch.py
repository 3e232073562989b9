"""The method table: "plugin.verb" → handler, param validation, deadlines, metrics.

Every request goes through `Dispatcher.entry` (find + validate) and then
either runs inline (plain functions: quick built-ins) or as a task (async
handlers). Per-method counters live here so `system.stats` and the monitor
read one source.
"""

from __future__ import annotations

import functools
import inspect
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from catalytic.client.errors import InvalidParams, MethodNotFound
from catalytic.plugins.base import Method, Param

_TYPE_CHECK: dict[str, Callable[[Any], bool]] = {
    "str": lambda v: isinstance(v, str),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "bin": lambda v: isinstance(v, bytes | bytearray),
    "list": lambda v: isinstance(v, list | tuple),
    "map": lambda v: isinstance(v, dict),
    "any": lambda v: True,
}

LATENCY_WINDOW = 2048
FAST_SAMPLE_EVERY = 16
"""The connection's fast path times one call in this many (see connection.py)."""


@dataclass(slots=True)
class MethodStats:
    """Calls, errors by code and a window of recent latencies for one method."""

    calls: int = 0
    errors: dict[int, int] = field(default_factory=dict)
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=LATENCY_WINDOW))
    total_s: float = 0.0
    max_s: float = 0.0
    _summary: dict[str, Any] | None = None
    _summary_calls: int = -1

    def record(self, seconds: float, error_code: int | None) -> None:
        self.calls += 1
        self.latencies.append(seconds)
        self.total_s += seconds
        if seconds > self.max_s:
            self.max_s = seconds
        if error_code is not None:
            self.errors[error_code] = self.errors.get(error_code, 0) + 1

    def sample(self, seconds: float, weight: int) -> None:
        """A timed sample standing for `weight` calls already counted in `calls`."""
        self.latencies.append(seconds)
        self.total_s += seconds * weight
        if seconds > self.max_s:
            self.max_s = seconds

    def summary(self) -> dict[str, Any]:
        """Counts and latency percentiles (nearest rank); cached until the next call."""
        if self._summary is not None and self._summary_calls == self.calls:
            return self._summary
        n = len(self.latencies)
        ranks = [min(n - 1, max(0, math.ceil(q * n) - 1)) for q in (0.50, 0.95, 0.99)]
        if n:
            window = np.fromiter(self.latencies, dtype=np.float64, count=n)
            window.partition(ranks)
            p50, p95, p99 = (float(window[r]) * 1e6 for r in ranks)
        else:
            p50 = p95 = p99 = 0.0
        self._summary = {
            "calls": self.calls, "errors": {str(k): v for k, v in self.errors.items()},
            "p50_us": p50, "p95_us": p95, "p99_us": p99, "max_us": self.max_s * 1e6,
            "mean_us": (self.total_s / self.calls * 1e6) if self.calls else 0.0}
        self._summary_calls = self.calls
        return self._summary


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
    to its defaults, which the connection calls directly."""

    def __post_init__(self) -> None:
        self.defaults = {p.name: p.default for p in self.method.params}
        if (self.inline and not self.wants_call and not self.method.heavy
                and not any(p.required for p in self.method.params)):
            self.fast = functools.partial(self.handler, **self.defaults)

    def schema(self) -> dict[str, Any]:
        return {"params": [p.schema() for p in self.method.params], "doc": self.method.doc,
                "heavy": self.method.heavy}


class Dispatcher:
    """The method table; refuses duplicate names when they are registered."""

    def __init__(self) -> None:
        self.table: dict[str, Entry] = {}
        self.started = time.monotonic()

    def register(self, plugin: str, method: Method, handler: Callable[..., Any]) -> None:
        name = f"{plugin}.{method.verb}"
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
        except KeyError:
            raise MethodNotFound(f"method {name!r} not found; `system.hello` lists the "
                                 "methods", {"method": name}) from None

    def schemas(self) -> dict[str, Any]:
        return {name: entry.schema() for name, entry in sorted(self.table.items())}


def validate(entry: Entry, params: dict[str, Any]) -> dict[str, Any]:
    """Check named params against the declaration; return the handler's kwargs."""
    declared = entry.method.params
    if not params:
        missing = [p for p in declared if p.required]
        if not missing:
            return dict(entry.defaults)
    known = entry.defaults.keys()
    unknown = [k for k in params if k not in known]
    if unknown:
        raise InvalidParams(f"{entry.name}: unknown param(s) {', '.join(map(str, unknown))}; "
                            f"accepted: {', '.join(sorted(known)) or 'none'}",
                            {"unknown": unknown})
    kwargs: dict[str, Any] = {}
    for p in declared:
        if p.name not in params:
            if p.required:
                raise InvalidParams(f"{entry.name}: missing required param {p.name!r} "
                                    f"({p.type})", {"param": p.name})
            kwargs[p.name] = p.default
            continue
        kwargs[p.name] = check_param(entry.name, p, params[p.name])
    return kwargs


def check_param(method: str, p: Param, value: Any) -> Any:
    """One param's type, range and choices; raises InvalidParams naming it."""
    if value is None and (p.nullable or not p.required):
        return p.default if not p.nullable else None
    if not _TYPE_CHECK[p.type](value):
        raise InvalidParams(f"{method}: param {p.name!r} must be {p.type}, got "
                            f"{type(value).__name__} {value!r:.60}", {"param": p.name})
    if p.type == "float" and isinstance(value, int):
        value = float(value)
    if p.type in ("int", "float", "number"):
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidParams(f"{method}: param {p.name!r} must be finite, got {value}",
                                {"param": p.name})
        if p.min is not None and value < p.min:
            raise InvalidParams(f"{method}: param {p.name!r} = {value} is below {p.min:g}",
                                {"param": p.name})
        if p.max is not None and value > p.max:
            raise InvalidParams(f"{method}: param {p.name!r} = {value} is above {p.max:g}",
                                {"param": p.name})
    if p.choices is not None and value not in p.choices:
        raise InvalidParams(f"{method}: param {p.name!r} = {value!r} is not one of "
                            f"{', '.join(map(repr, p.choices))}", {"param": p.name})
    if p.type == "list" and p.items is not None:
        check = _TYPE_CHECK[p.items]
        for i, item in enumerate(value):
            if not check(item):
                raise InvalidParams(f"{method}: param {p.name!r}[{i}] must be {p.items}, got "
                                    f"{type(item).__name__}", {"param": p.name, "index": i})
    if p.type == "bin" and isinstance(value, bytearray):
        value = bytes(value)
    return value
