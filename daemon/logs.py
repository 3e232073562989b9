"""Structured logs: one JSON object a line when not on a terminal (journald reads stdout)."""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {"ts": round(record.created, 3), "level": record.levelname.lower(),
               "logger": record.name, "msg": record.getMessage()}
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def setup(level: str, log_file: Path | None = None) -> logging.Logger:
    """Configure the `catalytic` logger; human lines on a terminal, JSON otherwise."""
    root = logging.getLogger("catalytic")
    root.handlers.clear()
    root.setLevel(level.upper())
    root.propagate = False
    handler: logging.Handler
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_file)
        handler.setFormatter(JsonFormatter())
    else:
        handler = logging.StreamHandler(sys.stderr)
        if sys.stderr.isatty():
            fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
            fmt.converter = time.localtime
            handler.setFormatter(fmt)
        else:
            handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    return root
