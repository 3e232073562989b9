"""Where the socket, the state and the user config live (DESIGN.md's rules).

The client imports this module too, so it uses only the standard library.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

APP = "catalytic"


def socket_path(env: Mapping[str, str] | None = None) -> Path:
    """`$CATALYTIC_SOCKET`, else `$XDG_RUNTIME_DIR/catalytic/catalytic.sock`,
    else `/tmp/catalytic-$UID/catalytic.sock`."""
    env = os.environ if env is None else env
    if env.get("CATALYTIC_SOCKET"):
        return Path(env["CATALYTIC_SOCKET"]).expanduser()
    if env.get("XDG_RUNTIME_DIR"):
        return Path(env["XDG_RUNTIME_DIR"]) / APP / f"{APP}.sock"
    return Path("/tmp") / f"{APP}-{os.getuid()}" / f"{APP}.sock"


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    """`$STATE_DIRECTORY` (systemd), else `$XDG_STATE_HOME/catalytic`
    (default `~/.local/state/catalytic`)."""
    env = os.environ if env is None else env
    if env.get("STATE_DIRECTORY"):
        # systemd may pass several, colon-separated; the first is ours.
        return Path(env["STATE_DIRECTORY"].split(":")[0])
    base = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / APP


def user_config_path(env: Mapping[str, str] | None = None) -> Path:
    """`$CONFIGURATION_DIRECTORY/catalytic.toml` (systemd), else
    `$XDG_CONFIG_HOME/catalytic/catalytic.toml` (default `~/.config/...`)."""
    env = os.environ if env is None else env
    if env.get("CONFIGURATION_DIRECTORY"):  # systemd's ConfigurationDirectory=
        return Path(env["CONFIGURATION_DIRECTORY"].split(":")[0]) / f"{APP}.toml"
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / APP / f"{APP}.toml"


def status_path(sock: Path) -> Path:
    """The daemon's status file (pid, socket, version) sits beside its socket."""
    return sock.with_name(sock.name + ".status.json")


def recording_path(state: Path, name: str) -> Path | None:
    """Where `system.record` saves the recording `name` under the daemon's state folder,
    and `tune` finds it; None when `name` is not letters, digits, - or _."""
    if not name.replace("-", "").replace("_", "").isalnum():
        return None
    return state / "workloads" / f"{name}.jsonl"


def recordings_dir(plugin_state: Path) -> Path:
    """The folder of `system.record`'s recordings, seen from a plugin's own state folder:
    the daemon gives each plugin `<state>/<plugin>`, and keeps recordings in
    `<state>/workloads`."""
    return plugin_state.parent / "workloads"


def default_config_path() -> Path:
    """The shipped defaults, every key commented."""
    return Path(__file__).with_name(f"{APP}.toml")
