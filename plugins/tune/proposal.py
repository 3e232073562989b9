"""The proposal tuning writes (`<state>/tune/proposal.toml`) and its diff against the
running configuration. The settings are checked by the settings model before anything
is written: a proposal that would stop the daemon's next start-up is never made.
"""

from __future__ import annotations

import difflib
from typing import Any

import tomlkit

from catalytic.config.load import ConfigError, load
from catalytic.config.model import installed_schema
from catalytic.config.paths import default_config_path

NAME = "proposal.toml"


def check(settings: dict[str, dict[str, Any]]) -> None:
    """Raise ValueError when the settings would not load (blocking: imports the schema)."""
    try:
        load(dict(installed_schema()), default_config_path(), env={}, overrides=settings)
    except ConfigError as e:
        raise ValueError(f"the proposed settings would not load: {e}") from None


def text(settings: dict[str, dict[str, Any]], note: str) -> str:
    header = "".join(f"# {line}\n" for line in (
        "Proposed by tune.run; install it with `catalytic config apply`.", note))
    return header + tomlkit.dumps(settings)


def changes(settings: dict[str, dict[str, Any]],
            current: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """`{"section.key": {"from": old, "to": new}}` for every setting that differs."""
    out: dict[str, dict[str, Any]] = {}
    for section, table in settings.items():
        for key, value in table.items():
            old = current.get(section, {}).get(key)
            if old != value:
                out[f"{section}.{key}"] = {"from": old, "to": value}
    return out


def diff(settings: dict[str, dict[str, Any]], current: dict[str, dict[str, Any]]) -> str:
    """A unified diff of the tuned settings, running → proposed."""
    def lines(values: dict[str, dict[str, Any]]) -> list[str]:
        return [f"{s}.{k} = {values.get(s, {}).get(k)!r}\n"
                for s, table in settings.items() for k in table]
    return "".join(difflib.unified_diff(lines(current), lines(settings),
                                        fromfile="running", tofile="proposal"))
