"""Param validation: named params checked against a method's declaration before it runs.

The dispatcher calls `validate` for every caller (socket, HTTP, plugins); a
bad value is answered with -32602 naming the param, before any handler sees it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from catalytic.plugins.base import Param
from catalytic.protocol.errors import InvalidParams

if TYPE_CHECKING:
    from catalytic.daemon.dispatch import Entry

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
