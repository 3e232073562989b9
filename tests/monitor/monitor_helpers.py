"""Shared by the monitor tests: a daemon config and waiting for fresh samples."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

FAST: dict[str, dict[str, Any]] = {"daemon": {"plugins": ["monitor"]},
        "monitor": {"interval_s": 0.1, "lag_probe_s": 0.02, "refresh_s": 1.0}}


def sample_after(client: Any, since: float, timeout: float = 15.0) -> dict[str, Any]:
    """The newest sample taken after `since` (unix time); columns → {metric: value}."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        cols = client.call("monitor.history", since=since, limit=5)
        if cols["t"]:
            return {name: values[-1] for name, values in cols["series"].items()}
        time.sleep(0.05)
    raise AssertionError(f"no monitor sample after {since} within {timeout} s")


def http_get(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read(), r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("Content-Type", "")


def http_json(url: str) -> tuple[int, Any]:
    status, body, _ = http_get(url)
    return status, json.loads(body)
