"""Checksums of pytest configuration files and conftest.py files, as selection sees them.

Why only pytest's part: a `pyproject.toml` changes for many reasons (a version
bump, a new dependency) that do not change how tests run; only its
`[tool.pytest.ini_options]` table (or setup.cfg's `[tool:pytest]`, tox.ini's
`[pytest]`) does. A conftest.py counts as a whole: it runs at collection, for
every test under its folder. Standard library only (imported by test workers).
"""

from __future__ import annotations

import configparser
import json
import tomllib
from pathlib import Path

from catalytic.plugins.testrun.blocks import digest

CONFIG_NAMES = ("pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg")


def config_checksum(path: Path) -> str:
    """Checksum of what pytest reads from `path` ("missing" when it cannot be read)."""
    try:
        data = path.read_bytes()
    except OSError:
        return "missing"
    name = path.name
    try:
        if name == "pyproject.toml":
            table = tomllib.loads(data.decode()).get("tool", {}).get("pytest", {})
            return digest(json.dumps(table, sort_keys=True, default=str).encode())
        if name in ("setup.cfg", "tox.ini"):
            parser = configparser.ConfigParser(interpolation=None)
            parser.read_string(data.decode())
            section = "tool:pytest" if name == "setup.cfg" else "pytest"
            items = dict(parser.items(section)) if parser.has_section(section) else {}
            return digest(json.dumps(items, sort_keys=True).encode())
    except (ValueError, UnicodeDecodeError, configparser.Error):
        pass  # unreadable: the whole file counts
    return digest(data)


DEFAULT_PYTHON_FILES = ["test_*.py", "*_test.py"]


def python_files_patterns(path: Path) -> list[str] | None:
    """pytest's `python_files` globs as the configuration file `path` sets them (pytest's
    default when it does not); None when the file cannot be read."""
    try:
        data = path.read_text()
        value: object = None
        if path.name == "pyproject.toml":
            table = tomllib.loads(data).get("tool", {}).get("pytest", {})
            value = table.get("ini_options", {}).get("python_files", table.get("python_files"))
        else:
            parser = configparser.ConfigParser(interpolation=None)
            parser.read_string(data)
            section = {"setup.cfg": "tool:pytest"}.get(path.name, "pytest")
            value = parser.get(section, "python_files", fallback=None)
    except (OSError, ValueError, UnicodeDecodeError, configparser.Error, AttributeError):
        return None
    if value is None:
        return list(DEFAULT_PYTHON_FILES)
    if isinstance(value, str):
        return value.split()
    return [str(v) for v in value] if isinstance(value, list) else None
