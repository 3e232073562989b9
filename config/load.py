"""Load the configuration: defaults ← TOML file ← CATALYTIC_<SECTION>_<KEY> ← CLI flags.

Every value is checked against its `Setting` with the shared field check
(`catalytic.protocol.fields`); a bad key or value raises `ConfigFieldError`,
`<section>.<key> = <value> (<where>): expected <what>`.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from catalytic.config.model import CORE, Setting
from catalytic.config.paths import user_config_path
from catalytic.protocol import fields
from catalytic.protocol.fields import FieldError

Schema = Mapping[str, Sequence[Setting]]

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "k": 10**3, "kb": 10**3, "m": 10**6, "mb": 10**6, "g": 10**9,
          "gb": 10**9, "t": 10**12, "tb": 10**12, "kib": 1 << 10, "mib": 1 << 20,
          "gib": 1 << 30, "tib": 1 << 40, "ki": 1 << 10, "mi": 1 << 20, "gi": 1 << 30}


class ConfigError(ValueError):
    """A configuration problem, said so that the user can fix it."""


class ConfigFieldError(FieldError, ConfigError):
    """A key or value of the configuration that is wrong, in the shared field shape:
    `<section>.<key> = <value> (<where>): expected <what>`."""


@dataclass
class Config:
    """The effective configuration and where each value came from."""

    values: dict[str, dict[str, Any]]
    sources: dict[str, dict[str, str]]
    path: Path | None = None
    extra: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Sections kept raw because their plugin could not be loaded."""

    def section(self, name: str) -> dict[str, Any]:
        return dict(self.values.get(name, {}))


def parse_size(text: str) -> int:
    """'256MiB' → 268435456; plain digits are bytes."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError(text)
    number, unit = match.groups()
    factor = _UNITS.get((unit or "").lower())
    if factor is None:
        raise ValueError(text)
    return int(float(number) * factor)


def _from_text(setting: Setting, value: str) -> Any:
    """An environment variable's text as the value of `setting` (ValueError if it is not
    one); other sources give typed TOML values and are not converted."""
    kind = setting.kind
    if kind == "bool":
        lowered = value.strip().lower()
        if lowered not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
            raise ValueError(value)
        return lowered in ("1", "true", "yes", "on")
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    if kind.endswith("_list"):
        items = [v.strip() for v in value.split(",") if v.strip()]
        return [int(v) for v in items] if kind == "int_list" else items
    return value


def coerce(section: str, setting: Setting, value: Any, where: str) -> Any:
    """Check (and, for sizes and strings from the environment, convert) one value
    against its `Setting`; a bad one raises ConfigFieldError."""
    name = f"{section}.{setting.key}"
    bad = ConfigFieldError(name, value, where, setting.allowed())
    try:
        if isinstance(value, str) and where.startswith("env"):
            value = _from_text(setting, value)
        if setting.kind == "bytes" and isinstance(value, str):
            value = parse_size(value)
        type, items = setting.wire_type()
        value = fields.check(name, value, where, type, choices=setting.choices,
                             min=setting.min, max=setting.max, items=items)
    except (ValueError, TypeError):
        raise bad from None
    if setting.kind == "path" and value:
        value = os.path.expanduser(value)
    elif setting.kind == "path_list":
        value = [os.path.expanduser(v) for v in value]
    return value


MOVED = {("evolve", "workload_roots"): "[tune] workload_roots"}
"""Settings that moved to another section: a file that still sets one is told where."""


def defaults(schema: Schema) -> Config:
    values = {sec: {s.key: s.default for s in settings} for sec, settings in schema.items()}
    sources = {sec: dict.fromkeys(keys, "default") for sec, keys in values.items()}
    return Config(values, sources)


def _apply(cfg: Config, schema: Schema, section: str, key: str, value: Any, where: str,
           lenient: Iterable[str]) -> None:
    if section not in schema:
        if section in lenient:
            cfg.extra.setdefault(section, {})[key] = value
            return
        raise ConfigFieldError(f"{section}.{key}", value, where,
                               "a key of a known section: " + ", ".join(sorted(schema)))
    settings = {s.key: s for s in schema[section]}
    if (section, key) in MOVED:
        raise ConfigError(f"{section}.{key} ({where}) moved to {MOVED[section, key]}; "
                          "set it there")
    if key not in settings:
        raise ConfigFieldError(f"{section}.{key}", value, where,
                               f"a key of [{section}]: " + ", ".join(sorted(settings)))
    cfg.values[section][key] = coerce(section, settings[key], value, where)
    cfg.sources[section][key] = where


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config: {exc.strerror}") from None


def load(schema: Schema | None = None, path: Path | None = None,
         env: Mapping[str, str] | None = None,
         overrides: Mapping[str, Mapping[str, Any]] | None = None,
         lenient: Iterable[str] = ()) -> Config:
    """Build the effective config. `path=None` reads the user file when it exists."""
    schema = dict(CORE) if schema is None else schema
    env = os.environ if env is None else env
    lenient = set(lenient)
    cfg = defaults(schema)
    if path is None:
        candidate = user_config_path(env)
        path = candidate if candidate.exists() else None
    elif not path.exists():
        raise ConfigError(f"config file {path} does not exist")
    cfg.path = path
    if path is not None:
        for section, table in read_toml(path).items():
            if not isinstance(table, dict):
                raise ConfigFieldError(section, table, f"file {path}", f"a [{section}] table")
            for key, value in table.items():
                _apply(cfg, schema, section, key, value, f"file {path}", lenient)
    for name, value in env.items():
        if not name.startswith("CATALYTIC_"):
            continue
        rest = name[len("CATALYTIC_"):].lower()
        for section in schema:
            if rest.startswith(section + "_"):
                _apply(cfg, schema, section, rest[len(section) + 1:], value, f"env {name}",
                       lenient)
                break
    for section, table in (overrides or {}).items():
        for key, value in table.items():
            _apply(cfg, schema, section, key, value, "command line", lenient)
    return cfg


def render_toml(schema: Schema) -> str:
    """The defaults file text, every key commented (what `catalytic.toml` ships)."""
    lines: list[str] = []
    for section, settings in schema.items():
        lines.append(f"[{section}]")
        for s in settings:
            lines.append(f"# {s.doc} Allowed: {s.allowed()}.")
            lines.append(f"# {s.key} = {toml_value(s.default)}")
        lines.append("")
    return "\n".join(lines)


def toml_value(value: Any) -> str:
    """`value` as TOML on one line (tomli-w escapes it), for "# key = value" comments:
    tomli-w itself puts each array item on its own line, so arrays are joined here."""
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        raise TypeError("a table cannot be written on one line here")
    return tomli_w.dumps({"v": value}).removeprefix("v = ").rstrip("\n")
