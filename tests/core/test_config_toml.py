"""TOML written by `config.load` (through tomli-w) reads back through `tomllib` unchanged,
whatever the keys and values hold."""

from __future__ import annotations

import re
import tomllib
from typing import Any

import pytest

from catalytic.config.load import render_toml, toml_value
from catalytic.config.model import Setting

AWKWARD = [
    'say "hi"',
    "back\\slash and C:\\path\\",
    "two\nlines\r\n",
    "tab\there",
    "bell\x07 nul\x00 esc\x1b del\x7f",
    "unicode: é ß 漢字 😀",
    "'single' and '''triple'''",
    '"""',
    "# not a comment",
    "",
]


@pytest.mark.parametrize("value", AWKWARD)
def test_strings_round_trip(value: str) -> None:
    assert tomllib.loads(f"v = {toml_value(value)}") == {"v": value}


@pytest.mark.parametrize("value", [
    True, False, 0, -7, 1 << 62, 0.1, 1e300, -2.5,
    [], ["a", 'b"c', "d\ne"], [1, 2, 3], [[1, 2], ["x"]], ("t", "u"),
])
def test_other_values_round_trip_on_one_line(value: Any) -> None:
    text = toml_value(value)
    assert "\n" not in text
    expected = list(value) if isinstance(value, tuple) else value
    assert tomllib.loads(f"v = {text}") == {"v": expected}


def test_a_table_is_refused_rather_than_written_wrong() -> None:
    with pytest.raises(TypeError):
        toml_value({"a": 1})


def test_rendered_defaults_read_back_when_uncommented() -> None:
    schema = {"weird": [
        Setting("quote", "str", 'a "b" \\ c\nd\x01', "A value with every escape."),
        Setting("names", "str_list", ["x\ty", "é"], "A list."),
        Setting("n", "int", 3, "A number."),
    ]}
    text = render_toml(schema)
    body = "\n".join(line.removeprefix("# ") for line in text.splitlines()
                     if line.startswith("[") or re.match(r"^# [a-z]+ = ", line))
    assert tomllib.loads(body) == {"weird": {"quote": 'a "b" \\ c\nd\x01',
                                             "names": ["x\ty", "é"], "n": 3}}
