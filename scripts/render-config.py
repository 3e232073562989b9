"""Regenerate config/catalytic.toml from the declared settings (core + built-in plugins).

Run after adding or changing a setting: `.venv/bin/python scripts/render-config.py`.
tests/core/test_config.py fails when the shipped file lacks a setting.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from catalytic.config.load import render_toml
from catalytic.config.model import CORE

HEADER = """\
# catalytic defaults: every setting, commented out, with its default and what is allowed.
# Copy what you change to $XDG_CONFIG_HOME/catalytic/catalytic.toml (or pass --config).
# Environment variables CATALYTIC_<SECTION>_<KEY> override the file; catalyticd flags
# (--SECTION-KEY VALUE, --set SECTION.KEY=VALUE) override both.

"""


def main() -> None:
    schema = dict(CORE)
    for ep in sorted(importlib.metadata.entry_points(group="catalytic.plugins"),
                     key=lambda e: e.name):
        if not ep.value.startswith("catalytic.plugins."):
            continue  # third-party plugins ship their own docs
        try:
            cls = ep.load()
        except Exception as exc:
            print(f"skipping {ep.name}: {exc}")
            continue
        if cls.settings:
            schema[ep.name] = cls.settings
    out = Path(__file__).resolve().parents[1] / "config" / "catalytic.toml"
    out.write_text(HEADER + render_toml(schema))
    print(f"wrote {out} ({len(schema)} sections)")


if __name__ == "__main__":
    main()
