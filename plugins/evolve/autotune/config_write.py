"""Write tuned knobs into the user's config file, keeping a backup and checking the result.

Only knobs whose `[section] key` exists in the running daemon's configuration
are written (a key the daemon does not know would stop its next start-up);
the new file is validated with the same loader the daemon uses before it
replaces the old one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import tomllib
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from catalytic.config.load import ConfigError, load, toml_value
from catalytic.config.model import CORE, Setting
from catalytic.plugins.evolve.autotune.model import CODECS
from catalytic.plugins.evolve.autotune.policies import POLICIES

BOUNDS = {"level": (1, 19), "prefetch_depth": (0, 8), "prd_parallel_threshold": (1, 256)}

KNOB_SETTINGS: dict[str, tuple[str, str]] = {
    "policy": ("workspace", "policy"),
    "memory_fraction": ("workspace", "memory_capacity"),
    "prefetch_depth": ("workspace", "prefetch_depth"),
    "prefetch_budget": ("workspace", "prefetch_budget_bytes"),
    "codec": ("workspace", "compression"),
    "level": ("workspace", "zstd_level"),
    "prd_parallel_threshold": ("prd", "parallel_min_sections"),
    "workers": ("daemon", "workers"),
    "gc_gen0": ("daemon", "gc_thresholds"),
}
"""Knob -> the setting it becomes. Fractions become bytes of the memory budget."""


def setting_values(knobs: dict[str, Any], memory_budget: int) -> dict[str, Any]:
    """The knobs as values of their settings."""
    out: dict[str, Any] = {}
    capacity = max(1, int(knobs["memory_fraction"] * memory_budget)) \
        if "memory_fraction" in knobs else None
    for knob, value in knobs.items():
        if knob == "gc_gen0":
            out[knob] = [int(value), 10, 10]
        elif knob == "memory_fraction":
            out[knob] = capacity
        elif knob == "prefetch_budget":
            out[knob] = int(value * (capacity or memory_budget))
        else:
            out[knob] = value
    return out


def current_knobs(daemon_config: dict[str, dict[str, Any]], cores: int,
                  memory_budget: int) -> dict[str, Any]:
    """The knob values the running daemon uses, where it has a setting for them."""
    out: dict[str, Any] = {}
    for knob, (section, key) in KNOB_SETTINGS.items():
        value = daemon_config.get(section, {}).get(key)
        if value is None:
            continue
        if knob == "gc_gen0":
            if value:
                out[knob] = int(value[0])
        elif knob == "workers":
            out[knob] = int(value) or cores
        elif knob == "memory_fraction":
            out[knob] = min(0.9, max(0.05, int(value) / memory_budget))
        elif knob == "prefetch_budget":
            cap = daemon_config.get("workspace", {}).get("memory_capacity") or memory_budget
            out[knob] = min(0.5, max(0.0, int(value) / int(cap)))
        elif knob == "policy" and value not in POLICIES:
            continue  # e.g. "auto" or a policy the model does not have: keep the default
        elif knob == "codec" and value not in CODECS:
            continue
        elif knob in ("level", "prefetch_depth", "prd_parallel_threshold"):
            lo, hi = BOUNDS[knob]
            out[knob] = min(hi, max(lo, int(value)))
        else:
            out[knob] = value
    return out


def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = dict(CORE)
    for ep in entry_points(group="catalytic.plugins"):
        try:
            settings = ep.load().settings
        except Exception:  # a plugin that cannot load keeps its section raw
            continue
        schema[ep.name] = tuple(s for s in settings if isinstance(s, Setting))
    return schema


def render(tables: dict[str, dict[str, Any]]) -> str:
    lines = ["# Written by evolve.autotune --apply; the previous file is kept as a backup."]
    for section, table in tables.items():
        lines.append(f"\n[{section}]")
        lines += [f"{k} = {toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def apply(path: Path, knobs: dict[str, Any], daemon_config: dict[str, dict[str, Any]],
          memory_budget: int) -> dict[str, Any]:
    """Merge the knobs the daemon has settings for into `path`; return what was done."""
    written: dict[str, Any] = {}
    skipped: list[str] = []
    tables: dict[str, dict[str, Any]] = {}
    if path.exists():
        with path.open("rb") as fh:
            tables = {k: dict(v) for k, v in tomllib.load(fh).items() if isinstance(v, dict)}
    for knob, value in setting_values(knobs, memory_budget).items():
        section, key = KNOB_SETTINGS[knob]
        if key not in daemon_config.get(section, {}):
            skipped.append(f"{section}.{key}")
            continue
        tables.setdefault(section, {})[key] = value
        written[f"{section}.{key}"] = value
    text = render(tables)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".autotune.", suffix=".toml")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    try:
        load(_schema(), Path(tmp), env={}, lenient=())
    except ConfigError as e:
        os.unlink(tmp)
        raise ValueError(f"the tuned config would not load, nothing written: {e}") from None
    backup = None
    if path.exists():
        backup = path.with_name(f"{path.name}.bak-{time.strftime('%Y%m%d-%H%M%S')}")
        shutil.copy2(path, backup)
    os.replace(tmp, path)
    return {"path": str(path), "backup": str(backup) if backup else None, "written": written,
            "skipped": skipped}
