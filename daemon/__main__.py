"""`catalyticd`: run the daemon in the foreground (what systemd wants).

Flags are derived from the settings: every key has `--SECTION-KEY VALUE`,
and `--set SECTION.KEY=VALUE` works for plugin sections too.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from catalytic.config import load as config_load
from catalytic.config.model import CORE
from catalytic.config.paths import socket_path, state_dir
from catalytic.daemon import logs
from catalytic.daemon.plugins import PluginHost, daemon_version
from catalytic.daemon.store import private_dir

EXIT_CONFIG = 78  # EX_CONFIG: systemd will not restart-loop on a bad config
EXIT_STARTUP = 75


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="catalyticd", description=__doc__.splitlines()[0])
    p.add_argument("--config", type=Path, help="config file (default: the user's, if any)")
    p.add_argument("--socket", type=Path, help="socket path (default: $CATALYTIC_SOCKET, ...)")
    p.add_argument("--state-dir", type=Path, help="state directory")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override any setting (repeatable)")
    p.add_argument("--check-config", action="store_true",
                   help="validate the configuration and exit")
    p.add_argument("--print-default-config", action="store_true",
                   help="print the defaults file, every key commented, and exit")
    p.add_argument("--version", action="version", version=f"catalyticd {daemon_version()}")
    group = p.add_argument_group("settings (each overrides the config file and environment)")
    for section, settings in CORE.items():
        for s in settings:
            group.add_argument(f"--{section}-{s.key.replace('_', '-')}",
                               dest=f"opt__{section}__{s.key}", metavar=s.kind.upper(),
                               help=f"{s.doc} ({s.allowed()})")
    return p


def overrides(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, value in vars(args).items():
        if name.startswith("opt__") and value is not None:
            _, section, key = name.split("__", 2)
            out.setdefault(section, {})[key] = _from_flag(value)
    for item in args.set:
        key, sep, value = item.partition("=")
        section, dot, name = key.partition(".")
        if not sep or not dot:
            raise config_load.ConfigError(f"--set {item!r}: expected SECTION.KEY=VALUE")
        out.setdefault(section, {})[name] = _from_flag(value)
    return out


def _from_flag(text: str) -> Any:
    """Flag values are parsed as TOML values when they can be (numbers, bools, lists)."""
    import tomllib

    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.print_default_config:
        print(Path(config_load.__file__).with_name("catalytic.toml").read_text(), end="")
        return 0
    log = logs.setup("info")
    try:
        flags = overrides(args)
        only = flags.get("daemon", {}).get("plugins")
        pre = config_load.load(dict(CORE), args.config, lenient=_all_sections(),
                               overrides={k: v for k, v in flags.items() if k in CORE})
        host = PluginHost(log, only=only if only is not None else pre.values["daemon"]["plugins"])
        host.discover()
        schema = {**CORE, **host.schemas()}

        def reload_config() -> config_load.Config:
            return config_load.load(schema, args.config, lenient=host.failed_names(),
                                    overrides=flags)

        cfg = reload_config()
    except config_load.ConfigError as exc:
        print(f"catalyticd: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if args.check_config:
        print("configuration is valid")
        return 0
    daemon_cfg = cfg.values["daemon"]
    log_file = Path(daemon_cfg["log_file"]) if daemon_cfg["log_file"] else None
    log = logs.setup(daemon_cfg["log_level"], log_file)
    sock = args.socket or socket_path()
    state = args.state_dir or state_dir()
    private_dir(state)
    return run(cfg, host, sock, state, log, reload_config, daemon_cfg["loop"])


def _all_sections() -> list[str]:
    """Before plugins are known, any section may belong to one."""
    from importlib.metadata import entry_points

    return [ep.name for ep in entry_points(group="catalytic.plugins")]


def run(cfg: config_load.Config, host: PluginHost, sock: Path, state: Path, log: Any,
        reload_config: Any, loop_name: str) -> int:
    from catalytic.daemon.executor import create_executor
    from catalytic.daemon.server import Server, StartupError

    # Fork the workers first, while the process has one thread and no sockets.
    try:
        executor = create_executor(cfg.values["daemon"], log)
    except ImportError as exc:
        print(f"catalyticd: daemon.executor = 'dask' needs Dask distributed "
              f"(pip install 'catalytic[dask]'): {exc}", file=sys.stderr)
        return EXIT_CONFIG
    server_box: list[Server] = []

    async def serve() -> int:
        server = Server(cfg, host, sock, state, log, reload_config)
        server_box.append(server)
        try:
            await server.startup(executor)
        except StartupError as exc:
            log.error("%s", exc)
            print(f"catalyticd: {exc}", file=sys.stderr)
            await executor.close()
            return EXIT_STARTUP
        await server.stop_event.wait()
        await server.shutdown()
        return 0

    return _run_loop(serve, loop_name, log)


def _run_loop(main_coro: Any, loop_name: str, log: Any) -> int:
    if loop_name in ("auto", "uvloop"):
        try:
            import uvloop
        except ImportError:
            if loop_name == "uvloop":
                print("catalyticd: daemon.loop = 'uvloop' but uvloop is not installed "
                      "(pip install uvloop)", file=sys.stderr)
                return EXIT_CONFIG
        else:
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                return int(runner.run(main_coro()))
    return asyncio.run(main_coro())


if __name__ == "__main__":
    sys.exit(main())
