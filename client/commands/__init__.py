"""What every CLI command gets: a lazy client, progress display, and output modes.

Each plugin's commands live in `client/commands/<plugin>.py` with a
`register(subparsers)` function; a command is `def run_x(args, cli) -> int`.
rich is imported only here and in the CLI, never by the client library.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from catalytic.client.sync import Client

EXIT_OK = 0
EXIT_ERROR = 1
"""The daemon answered with an error."""
EXIT_USAGE = 2
EXIT_NOT_RUNNING = 3
"""No daemon answers (and auto-start was off or failed)."""
EXIT_MISMATCH = 4
"""The daemon speaks another protocol version."""


def to_jsonable(value: Any) -> Any:
    """msgpack values as JSON: bytes become {"base64": ...}."""
    if isinstance(value, bytes | bytearray):
        return {"base64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


class CliContext:
    """Shared by the commands of one `catalytic` invocation."""

    def __init__(self, socket: Path | None, json_output: bool, autostart: bool,
                 timeout: float | None) -> None:
        from rich.console import Console

        self.socket = socket
        self.json = json_output
        self.autostart = autostart
        self.timeout = timeout
        self.console = Console(highlight=False)
        self.err = Console(stderr=True, highlight=False)
        self._client: Client | None = None

    def client(self) -> Client:
        if self._client is None:
            self._client = Client(self.socket, autostart=self.autostart, timeout=self.timeout)
        return self._client

    def call(self, method: str, params: dict[str, Any] | None = None, **kw: Any) -> Any:
        """Call the daemon; progress notifications drive a progress bar on a terminal."""
        client = self.client()
        if self.json or not self.err.is_terminal:
            return client.call(method, params, **kw)
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(TextColumn("{task.description}"), BarColumn(),
                      TextColumn("{task.completed:.0f}/{task.total:.0f}"),
                      TimeRemainingColumn(), console=self.err, transient=True) as bar:
            task = bar.add_task(method, total=None)

            def on_progress(p: dict[str, Any]) -> None:
                bar.update(task, completed=p.get("done") or 0, total=p.get("total"),
                           description=p.get("message") or method)

            return client.call(method, params, progress=on_progress, **kw)

    def emit(self, result: Any, human: Callable[[Any], None] | None = None) -> None:
        """JSON with --json (or when stdout is not a terminal and no human form is given)."""
        if self.json:
            json.dump(to_jsonable(result), sys.stdout, indent=2, sort_keys=True)
            sys.stdout.write("\n")
        elif human is not None:
            human(self.console)
        else:
            from rich.pretty import Pretty

            self.console.print(Pretty(result))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
