"""The one rule for paths a caller names (`PluginContext.resolve_path`).

A path from a request is resolved (symlinks, `..`; never relative to the daemon's
working directory) and must lie under one of the roots configured for that use.
Refusals never say whether the file exists outside the roots.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from catalytic.protocol.errors import Forbidden, InvalidParams


def resolve_under(path: Any, roots: Iterable[str | Path], setting: str, *,
                  must_exist: bool = False) -> Path:
    """`path` resolved, if it lies under one of `roots` (resolved the same way).

    `setting` is the config key the roots come from (`"<plugin>.<key>"`), named in
    the refusal. A non-string, empty, NUL-carrying or relative path is -32602; outside
    every root (or unresolvable) is -32003; with `must_exist`, a missing file inside the
    roots is -32602 naming it.
    """
    if not isinstance(path, str):
        raise InvalidParams(f"a path must be a string, got {type(path).__name__}")
    if not path:
        raise InvalidParams("a path must not be empty")
    if "\x00" in path:
        raise InvalidParams("a path must not contain a NUL byte")
    if not os.path.isabs(path):
        raise InvalidParams(f"path {path!r} must be absolute (relative paths are refused, "
                            f"since the daemon's working directory is not yours)")
    refused = Forbidden(f"path {path!r} is outside {setting}")
    try:
        resolved = Path(path).resolve()
    except (OSError, RuntimeError):  # a symlink loop, a name too long
        raise refused from None
    for root in roots:
        try:
            base = Path(root).expanduser().resolve()
        except (OSError, RuntimeError):
            continue
        if resolved == base or resolved.is_relative_to(base):
            break
    else:
        raise refused
    if must_exist and not resolved.exists():
        raise InvalidParams(f"path {path!r} does not exist")
    return resolved
