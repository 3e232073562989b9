"""pytest arguments as data: the allowlist a caller's `args` must pass.

Why: workers run as the daemon's user, so a pytest option that writes files
(`--debug=<path>`, `--basetemp`), loads code (`-p <plugin>`, a test file
elsewhere) or changes what runs (`-c`, `--rootdir`, `-o`) would let any caller
of the socket act outside the allowed roots. Only options that select or order
tests, or change verbosity, get through; every path must lie under the root.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from catalytic.plugins.base import InvalidParams

FLAGS = {"-x": "-x", "--exitfirst": "-x", "-q": "-q", "--quiet": "-q", "-v": "-v",
         "--verbose": "-v", "-vv": "-vv", "-qq": "-qq", "-l": "-l", "--showlocals": "-l",
         "--randomly-dont-reorganize": "--randomly-dont-reorganize",
         "--strict-markers": "--strict-markers"}
"""Options without a value, passed on as given."""
WITH_VALUE = ("-k", "-m", "--maxfail", "--deselect", "--ignore", "--ignore-glob",
              "--randomly-seed", "--tb")
"""Options with a value (`-k expr`, `-kexpr`, `--maxfail=2`, `--maxfail 2`)."""
DROPPED = ("-n", "--numprocesses", "--dist")
"""Parallelism options: the daemon is the parallelism, so these are accepted and ignored."""
OWN = {"--lf": "lf", "--last-failed": "lf", "--ff": "ff", "--failed-first": "ff"}
"""Answered from the daemon's own history (workers run without pytest's cache)."""
TB_STYLES = ("auto", "long", "short", "line", "native", "no")
PLUGIN_NAME = re.compile(r"[A-Za-z0-9_.\-]+")
ALLOWED_TEXT = ("-k, -m, -x/--exitfirst, --maxfail N, --lf, --ff, -q, -v, -l, --tb STYLE, "
                "-p no:<name>, --deselect <nodeid>, --ignore <path>, --ignore-glob <glob>, "
                "--randomly-seed N, --randomly-dont-reorganize, node ids and paths under the "
                "root")


@dataclass
class CheckedArgs:
    """What `check_args` made of a caller's arguments."""

    pytest: list[str] = field(default_factory=list)
    """Arguments for the workers' pytest (already checked)."""
    last_failed: bool = False
    failed_first: bool = False


def _refuse(message: str) -> InvalidParams:
    return InvalidParams(f"{message}; allowed pytest arguments: {ALLOWED_TEXT}")


def _check_text(arg: str) -> None:
    if "\0" in arg:
        raise InvalidParams(f"pytest argument {arg!r} contains a NUL byte")


def _under_root(value: str, root: Path, option: str) -> str:
    """A path or node id (`path::name`) whose path resolves under `root`, as given."""
    path_part = value.split("::", 1)[0]
    if not path_part:
        raise _refuse(f"{option or 'argument'} {value!r} names no path")
    p = Path(path_part).expanduser()
    resolved = Path(os.path.realpath(p if p.is_absolute() else root / p))
    if not (resolved == root or resolved.is_relative_to(root)):
        raise _refuse(f"{option or 'path'} {value!r} lies outside the project root {root}")
    return value


def _value(option: str, value: str, root: Path) -> str:
    _check_text(value)
    if option == "--maxfail" or option == "--randomly-seed":
        if not value.isdigit():
            raise _refuse(f"{option} needs a non-negative integer, got {value!r}")
    elif option == "--tb" and value not in TB_STYLES:
        raise _refuse(f"--tb needs one of {', '.join(TB_STYLES)}, got {value!r}")
    elif option in ("--deselect", "--ignore", "--ignore-glob"):
        _under_root(value, root, option)
    return value


def check_args(args: Sequence[str], root: Path) -> CheckedArgs:
    """Check every argument against the allowlist; -32602 naming the first one refused."""
    out = CheckedArgs()
    root = Path(os.path.realpath(root))
    items = list(args)
    i = 0
    while i < len(items):
        a = items[i]
        i += 1
        _check_text(a)
        if a in FLAGS:
            out.pytest.append(FLAGS[a])
            continue
        if a in OWN:
            setattr(out, "last_failed" if OWN[a] == "lf" else "failed_first", True)
            continue
        if a == "-p" or a.startswith("-p"):
            name = (items[i] if i < len(items) else "") if a == "-p" else a[2:].lstrip("=")
            i += a == "-p"
            _check_text(name)
            if not name.startswith("no:") or not PLUGIN_NAME.fullmatch(name[3:]):
                raise _refuse(f"-p {name!r} is refused: only -p no:<name> (disabling a plugin) "
                              "is allowed")
            out.pytest += ["-p", name]
            continue
        option, value = _split(a, items, i)
        if option in DROPPED:
            i += value[1]
            continue
        if option in WITH_VALUE:
            if value[0] is None:
                raise _refuse(f"{option} needs a value")
            i += value[1]
            out.pytest.append(f"{option}={_value(option, value[0], root)}"
                              if option.startswith("--") else option)
            if not option.startswith("--"):
                out.pytest.append(_value(option, value[0], root))
            continue
        if a.startswith("-"):
            raise _refuse(f"pytest option {a.split('=', 1)[0]!r} is not allowed")
        out.pytest.append(_under_root(a, root, ""))
    return out


def _split(a: str, items: list[str], i: int) -> tuple[str, tuple[str | None, int]]:
    """(option, (value, arguments consumed after it)) for `--opt=v`, `--opt v`, `-kv`, `-k v`."""
    nxt = items[i] if i < len(items) else None
    if a.startswith("--"):
        opt, eq, val = a.partition("=")
        if opt in WITH_VALUE or opt in DROPPED:
            return opt, ((val, 0) if eq else (nxt, 1))
        return a, (None, 0)
    for short in ("-k", "-m", "-n"):
        if a == short:
            return short, (nxt, 1)
        if a.startswith(short):
            return short, (a[len(short):].lstrip("="), 0)
    return a, (None, 0)
