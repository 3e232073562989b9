"""One check and one error shape for every declared value: RPC params, config keys, study specs.

A bad value always reads `<field> = <value> (<where>): expected <what>`, whether it
came from a TOML file, a socket request or the body of `evolve.create`, and over the
wire it is -32602 with `data.field` naming the field. The declarations themselves
(`Param`, `Setting`) live with their users; this module only knows types and bounds.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Callable, Sequence
from typing import Any

from catalytic.protocol.errors import InvalidParams

TYPES = ("str", "int", "float", "number", "bool", "bin", "list", "map", "any")

_IS: dict[str, Callable[[Any], bool]] = {
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

_NOUN = {"str": "a string", "int": "an integer", "float": "a number",
         "number": "a number", "bool": "true or false", "bin": "binary data",
         "list": "a list", "map": "a map", "any": "a value"}
_PLURAL = {"str": "strings", "int": "integers", "float": "numbers",
           "number": "numbers", "bool": "booleans", "bin": "binary values",
           "list": "lists", "map": "maps", "any": "values"}


class _Missing:
    def __repr__(self) -> str:
        return "(missing)"


MISSING: Any = _Missing()
"""Shown as the value of a required field that was not given."""


class FieldError(ValueError):
    """One declared value is wrong: which field, what it was, where it came from, and
    what was expected. Picklable, since it crosses back from executor workers."""

    def __init__(self, field: str, value: Any, where: str, expected: str) -> None:
        self.field = field
        self.value = value
        self.where = where
        self.expected = expected
        self.message = f"{field} = {show(value)} ({where}): expected {expected}"
        super().__init__(self.message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.field, self.value, self.where, self.expected))

    def data(self) -> dict[str, Any]:
        """The `data` of the -32602 error that reports this."""
        return {"field": self.field, "where": self.where, "expected": self.expected}

    def invalid_params(self) -> InvalidParams:
        """This error as the RPC error a handler raises."""
        return InvalidParams(self.message, self.data())


_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxdict, _SHORT.maxlist, _SHORT.maxtuple = 2, 4, 6, 6
_SHORT.maxstring = _SHORT.maxother = _SHORT.maxlong = 50


def show(value: Any) -> str:
    """The value as the message shows it: its repr, cut to 60 characters (a large list or
    map is never written out whole just to be cut)."""
    text = _SHORT.repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def is_type(type: str, value: Any) -> bool:
    """Whether `value` has the declared wire type (one of TYPES)."""
    return _IS[type](value)


def describe(type: str, *, choices: Sequence[Any] | None = None, min: float | None = None,
             max: float | None = None, items: str | None = None) -> str:
    """What a declaration accepts, said for the `expected ...` part of a message."""
    if choices is not None:
        return "one of " + ", ".join(repr(c) for c in choices)
    text = f"a list of {_PLURAL[items]}" if type == "list" and items else _NOUN[type]
    if min is not None and max is not None:
        text += f" from {min:g} to {max:g}"
    elif min is not None:
        text += f" ≥ {min:g}"
    elif max is not None:
        text += f" ≤ {max:g}"
    return text


def check(field: str, value: Any, where: str, type: str, *,
          choices: Sequence[Any] | None = None, min: float | None = None,
          max: float | None = None, items: str | None = None) -> Any:
    """Check one value against its declaration; return it normalised (an int declared
    float becomes a float, a bytearray bytes) or raise FieldError."""

    def bad() -> FieldError:
        return FieldError(field, value, where, describe(type, choices=choices, min=min,
                                                        max=max, items=items))

    if not _IS[type](value):
        raise bad()
    if type in ("int", "float", "number"):
        if isinstance(value, float) and not math.isfinite(value):
            raise bad()
        if (min is not None and value < min) or (max is not None and value > max):
            raise bad()
        if type == "float":
            value = float(value)
    if choices is not None and value not in choices:
        raise bad()
    if type == "list" and items is not None:
        for i, item in enumerate(value):
            finite = not isinstance(item, float) or math.isfinite(item)
            if not _IS[items](item) or (items in ("float", "number") and not finite):
                raise FieldError(f"{field}[{i}]", item, where, _NOUN[items])
    if type == "bin" and isinstance(value, bytearray):
        value = bytes(value)
    return value
