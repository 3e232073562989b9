"""`catalytic mcp`: serve the daemon's tools to an agent over MCP (stdio).

`--print-config` prints the `mcpServers` entry to paste into an agent's
configuration. The `mcp` SDK is imported only when the server runs, so the
CLI's other verbs never load it. Logs go to stderr; stdout carries only MCP.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from catalytic.client.commands import EXIT_OK, CliContext


def register(sub: Any) -> None:
    p = sub.add_parser("mcp", help="serve the daemon as MCP tools over stdio (for agents)")
    p.add_argument("--print-config", action="store_true",
                   help="print the mcpServers JSON entry for an agent's configuration")
    p.add_argument("--log-level", default="WARNING",
                   choices=("DEBUG", "INFO", "WARNING", "ERROR"), help="stderr log level")
    p.set_defaults(func=run_mcp, autostart=False)


def command_path() -> list[str]:
    """How to start this install's `catalytic`: its script beside the interpreter, else PATH's."""
    beside = Path(sys.executable).parent / "catalytic"
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside.absolute())]
    found = shutil.which("catalytic")
    if found:
        return [str(Path(found).resolve())]
    return [str(Path(sys.executable).absolute()), "-m", "catalytic.client.cli"]


def server_entry(socket: Path | None) -> dict[str, Any]:
    command, *lead = command_path()
    entry: dict[str, Any] = {"command": command, "args": [*lead, "mcp"]}
    if socket is not None:
        entry["env"] = {"CATALYTIC_SOCKET": str(socket.absolute())}
    return {"mcpServers": {"catalytic": entry}}


def run_mcp(args: argparse.Namespace, cli: CliContext) -> int:
    if args.print_config:
        json.dump(server_entry(cli.socket), sys.stdout, indent=2)
        sys.stdout.write("\n")
        return EXIT_OK
    import anyio
    from mcp.server.stdio import stdio_server

    from catalytic.client.mcp.link import DaemonLink
    from catalytic.client.mcp.pipes import stdio_pipes
    from catalytic.client.mcp.server import build_server

    logging.basicConfig(level=args.log_level, stream=sys.stderr,
                        format="catalytic mcp: %(levelname)s %(message)s")
    link = DaemonLink(cli.socket, autostart=args.autostart_flag, timeout=cli.timeout)
    server = build_server(link, version=_version(), log_level=args.log_level)

    # The low-level server behind MCPServer, run on our pipes (run_stdio_async takes no streams).
    lowlevel = server._lowlevel_server

    async def serve() -> None:
        try:
            async with stdio_pipes() as pipes, stdio_server(*(pipes or (None, None))) as (
                    read, write):
                await lowlevel.run(read, write, lowlevel.create_initialization_options())
        finally:
            await link.close()

    anyio.run(serve)
    return EXIT_OK


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("catalytic")
    except PackageNotFoundError:
        return ""
