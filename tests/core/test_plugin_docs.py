"""The plugin contract is documented: every hook of `Plugin` and field of `PluginContext`
appears in docs/plugins.md (a new hook without docs fails here)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from catalytic.plugins.base import Plugin, PluginContext

DOCS = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"


def test_every_hook_and_context_field_is_documented() -> None:
    text = DOCS.read_text()
    hooks = [name for name, value in vars(Plugin).items()
             if not name.startswith("_") and callable(value) and name not in ("methods",
                                                                              "handler_name")]
    fields = [f.name for f in dataclasses.fields(PluginContext)]
    missing = [name for name in hooks + fields
               if f"`{name}`" not in text and f"{name}(" not in text]
    assert not missing, f"docs/plugins.md does not mention: {missing}"


def test_every_hook_the_daemon_calls_is_declared() -> None:
    """A hook the daemon calls on a plugin (`plugin.x(` or `instance.x(` in daemon/) must be
    a method of `Plugin`, so it is part of the documented contract."""
    import re

    daemon = Path(__file__).resolve().parents[2] / "daemon"
    called = {name for path in daemon.glob("*.py")
              for name in re.findall(r"\b(?:plugin|instance)\.([a-z_]+)\(", path.read_text())}
    assert called, "no hook calls found: the pattern no longer matches the daemon's code"
    undeclared = sorted(name for name in called if not callable(getattr(Plugin, name, None)))
    assert not undeclared, f"hooks called but not declared in plugins/base.py: {undeclared}"
