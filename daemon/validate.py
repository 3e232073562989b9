"""Param validation: named params checked against a method's declaration before it runs.

The dispatcher calls `validate` for every caller (socket, HTTP, plugins); a bad
value is answered with -32602 in the shared field shape
(`<param> = <value> (<method>): expected <what>`, `data.field` = the param).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from catalytic.protocol.fields import MISSING, FieldError

if TYPE_CHECKING:
    from catalytic.daemon.dispatch import Entry


def validate(entry: Entry, params: dict[str, Any]) -> dict[str, Any]:
    """Check named params against the declaration; return the handler's kwargs."""
    declared = entry.method.params
    if not params:
        missing = [p for p in declared if p.required]
        if not missing:
            return dict(entry.defaults)
    known = entry.defaults.keys()
    for key in params:
        if key not in known:
            accepted = ", ".join(sorted(known)) or "none"
            raise FieldError(str(key), params[key], entry.name,
                             f"one of the params: {accepted}").invalid_params()
    kwargs: dict[str, Any] = {}
    try:
        for p in declared:
            if p.name not in params:
                if p.required:
                    raise FieldError(p.name, MISSING, entry.name, p.expected())
                kwargs[p.name] = p.default
                continue
            kwargs[p.name] = p.check(params[p.name], entry.name)
    except FieldError as exc:
        raise exc.invalid_params() from None
    return kwargs
