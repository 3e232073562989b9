"""`catalytic`: the command line. Each verb is a small function in client/commands/.

Exit codes: 0 ok, 1 the daemon answered with an error, 2 usage, 3 no daemon,
4 protocol mismatch; `catalytic test` exits as pytest does.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from catalytic.client.commands import (
    EXIT_ERROR,
    EXIT_MISMATCH,
    EXIT_NOT_RUNNING,
    EXIT_USAGE,
    CliContext,
)
from catalytic.client.errors import DaemonNotRunning, ProtocolMismatch, RpcError

COMMAND_MODULES = ("core", "workspace", "prd", "evolve", "testrun", "space", "monitor", "tune",
                   "mcp")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="catalytic", description="Talk to the catalytic daemon.")
    p.add_argument("--socket", type=Path, help="daemon socket (default: $CATALYTIC_SOCKET, ...)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--no-autostart", dest="autostart_flag", action="store_false",
                   help="do not start the daemon when it is not running")
    p.add_argument("--timeout", type=float, default=None, help="seconds to wait for an answer")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"catalytic.client.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"catalytic.client.commands.{name}":
                raise
            continue
        module.register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    autostart = args.autostart_flag and getattr(args, "autostart", True)
    cli = CliContext(args.socket, args.json, autostart, args.timeout)
    try:
        return int(args.func(args, cli))
    except DaemonNotRunning as exc:
        cli.err.print(f"catalytic: {exc}")
        return EXIT_NOT_RUNNING
    except ProtocolMismatch as exc:
        cli.err.print(f"catalytic: {exc}")
        return EXIT_MISMATCH
    except RpcError as exc:
        cli.err.print(f"catalytic: error {exc.code}: {exc.message}")
        return EXIT_ERROR
    except KeyboardInterrupt:
        cli.err.print("catalytic: interrupted")
        return 130
    except (OSError, ValueError) as exc:
        cli.err.print(f"catalytic: {exc}")
        return EXIT_USAGE
    finally:
        cli.close()


if __name__ == "__main__":
    sys.exit(main())
