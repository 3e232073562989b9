"""Config: declared once, loaded from TOML/env/flags, every setting in the shipped file."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

import pytest

from catalytic.config.load import ConfigError, ConfigFieldError, load, parse_size
from catalytic.config.model import CORE
from catalytic.config.paths import default_config_path, socket_path, state_dir


def test_defaults_without_a_file(tmp_path) -> None:
    cfg = load(dict(CORE), env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert cfg.values["daemon"]["loop"] == "auto"
    assert cfg.sources["daemon"]["loop"] == "default"
    assert cfg.path is None


def test_file_env_and_flags_in_order(tmp_path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[daemon]\nworkers = 3\nlog_level = "debug"\n[limits]\n'
                    'max_message_bytes = "2MiB"\n')
    cfg = load(dict(CORE), path, env={"CATALYTIC_DAEMON_WORKERS": "5",
                                      "CATALYTIC_SOCKET": "/ignored"},
               overrides={"daemon": {"log_level": "error"}})
    assert cfg.values["daemon"]["workers"] == 5
    assert cfg.sources["daemon"]["workers"] == "env CATALYTIC_DAEMON_WORKERS"
    assert cfg.values["daemon"]["log_level"] == "error"
    assert cfg.sources["daemon"]["log_level"] == "command line"
    assert cfg.values["limits"]["max_message_bytes"] == 2 * 2**20


@pytest.mark.parametrize("text, needle", [
    ("[daemon]\nworkers = -1\n", "daemon.workers = -1"),
    ("[daemon]\nworkers = true\n", "expected an integer"),
    ("[http]\nenabled = 'yes'\n", "http.enabled = 'yes'"),
    ("[security]\nallowed_uids = ['root']\n", "a list of integers"),
    ("[daemon]\nbogus = 1\n", "daemon.bogus = 1"),
    ("[nosuch]\nkey = 1\n", "expected a key of a known section: daemon"),
    ("daemon = 3\n", "expected a [daemon] table"),
    ("[daemon\n", "not valid TOML"),
])
def test_bad_values_are_named(tmp_path, text, needle) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load(dict(CORE), path, env={})
    assert needle in str(info.value)


def test_bad_value_has_the_shared_field_shape(tmp_path) -> None:
    """A config error reads like a bad RPC param or study field: field, value, where,
    what was expected, with each part kept on the exception."""
    path = tmp_path / "c.toml"
    path.write_text("[http]\nport = 70000\n")
    with pytest.raises(ConfigFieldError) as info:
        load(dict(CORE), path, env={})
    err = info.value
    assert str(err) == f"http.port = 70000 (file {path}): expected an integer from 0 to 65535"
    assert (err.field, err.value, err.where) == ("http.port", 70000, f"file {path}")
    with pytest.raises(ConfigFieldError) as env_info:
        load(dict(CORE), env={"XDG_CONFIG_HOME": str(tmp_path),
                              "CATALYTIC_DAEMON_DASK_FALLBACK_LOCAL": "maybe"})
    assert str(env_info.value) == ("daemon.dask_fallback_local = 'maybe' (env "
                                   "CATALYTIC_DAEMON_DASK_FALLBACK_LOCAL): expected true or false")


def test_missing_explicit_file_is_an_error(tmp_path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load(dict(CORE), tmp_path / "nope.toml", env={})


def test_sizes() -> None:
    assert parse_size("256MiB") == 256 * 2**20
    assert parse_size("10 GiB") == 10 * 2**30
    assert parse_size("1.5k") == 1500
    with pytest.raises(ValueError):
        parse_size("lots")


def _all_settings() -> dict[str, list[str]]:
    out = {section: [s.key for s in settings] for section, settings in CORE.items()}
    for ep in importlib.metadata.entry_points(group="catalytic.plugins"):
        try:
            cls = ep.load()
        except Exception:
            continue
        if getattr(cls, "settings", None) and ep.name != "example":
            out[ep.name] = [s.key for s in cls.settings]
    return out


def test_shipped_toml_lists_every_setting() -> None:
    text = default_config_path().read_text()
    # every key is shown commented out with its default: "# key = value"
    settings_lines = "\n".join(
        re.sub(r"^# ", "", line) for line in text.splitlines()
        if line.startswith("[") or re.match(r"^# [a-z_0-9]+ = ", line))
    shipped = tomllib.loads(settings_lines)
    missing = [f"{section}.{key}" for section, keys in _all_settings().items()
               for key in keys if key not in shipped.get(section, {})]
    assert not missing, f"config/catalytic.toml lacks: {missing}"


def test_paths_follow_the_rules(tmp_path) -> None:
    assert socket_path({"CATALYTIC_SOCKET": "/x/s.sock"}) == Path("/x/s.sock")
    assert socket_path({"XDG_RUNTIME_DIR": "/run/user/7"}) == Path(
        "/run/user/7/catalytic/catalytic.sock")
    assert socket_path({}).name == "catalytic.sock"
    assert state_dir({"STATE_DIRECTORY": "/var/lib/catalytic:/other"}) == Path(
        "/var/lib/catalytic")
    assert state_dir({"XDG_STATE_HOME": str(tmp_path)}) == tmp_path / "catalytic"
