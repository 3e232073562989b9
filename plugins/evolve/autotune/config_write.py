"""Turn tuned knobs into a proposed configuration, checked by the settings model.

Only knobs whose `[section] key` exists in the running daemon's configuration
are proposed (a key the daemon does not know would stop its next start-up),
and the values are validated with the same loader the daemon uses. The daemon
writes the proposal only inside its own state directory; the user installs it
with `catalytic config apply` (which keeps a backup and prints the diff).
"""

from __future__ import annotations

from typing import Any

import tomlkit

from catalytic.config.load import ConfigError, load
from catalytic.config.model import installed_schema
from catalytic.config.paths import default_config_path
from catalytic.plugins.evolve.autotune.model import CODECS
from catalytic.plugins.evolve.autotune.policies import POLICIES

PROPOSAL = "proposal.toml"
"""The proposal's name in the plugin's state directory (the only file autotune writes)."""

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


def propose(knobs: dict[str, Any], daemon_config: dict[str, dict[str, Any]],
            memory_budget: int, note: str) -> tuple[str, dict[str, Any]]:
    """The proposal file's text (TOML of the settings the daemon knows) and what it holds.

    The settings are checked against the settings model first (a proposal that would
    stop the daemon's next start-up is refused); nothing is written here: the plugin
    saves the text in its state directory and `catalytic config apply` installs it.
    """
    tables: dict[str, dict[str, Any]] = {}
    written: dict[str, Any] = {}
    skipped: list[str] = []
    for knob, value in setting_values(knobs, memory_budget).items():
        section, key = KNOB_SETTINGS[knob]
        if key not in daemon_config.get(section, {}):
            skipped.append(f"{section}.{key}")
            continue
        tables.setdefault(section, {})[key] = value
        written[f"{section}.{key}"] = value
    try:
        load(dict(installed_schema()), default_config_path(), env={}, overrides=tables)
    except ConfigError as e:
        raise ValueError(f"the tuned settings would not load, no proposal written: {e}") \
            from None
    header = "".join(f"# {line}\n" for line in (
        "Proposed by evolve.autotune; install it with `catalytic config apply`.", note))
    return header + tomlkit.dumps(tables), {"settings": written, "skipped": skipped}
