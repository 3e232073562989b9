"""Helpers for the MCP tests: the small project in tests/data/mcp, and tool-result access."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest

PROJECT = Path(__file__).resolve().parents[1] / "data" / "mcp" / "project"
BUG = ("return a + b", "return a - b - 0")
"""An edit that breaks `add` (and so test_add). It changes the file's size on purpose:
Python's cached bytecode is checked by source mtime in whole seconds and size, so a
same-size edit within the second of the previous compile would run the old code."""


def copy_project(dest: Path) -> Path:
    root = dest / "project"
    shutil.copytree(PROJECT, root)
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def daemon_config(tmp_path: Path) -> dict[str, dict[str, Any]]:
    return {"testrun": {"allowed_roots": [str(tmp_path)], "keep_warm_s": 0}}


def ok(result: Any) -> dict[str, Any]:
    """The structured answer of a successful tool call."""
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


def err(result: Any) -> dict[str, Any]:
    """The structured error of a failed tool call."""
    assert result.is_error, result.structured_content
    return result.structured_content or {"message": result.content[0].text}


async def cancel_a_slow_run(c: Any, d: Any, project: Path) -> None:
    """Start `run_tests` on a project with a test that sleeps a minute, abandon the tool
    call once it reports progress (the SDK sends notifications/cancelled), and check that
    the daemon's run was cancelled and that the session carries on."""
    (project / "tests" / "check_slow.py").write_text(
        "import time\n\ndef test_slow():\n    time.sleep(60)\n")
    started = asyncio.Event()

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        started.set()

    call = asyncio.create_task(c.call_tool("run_tests", {"root": str(project)},
                                           progress_callback=on_progress))
    await asyncio.wait_for(started.wait(), 60)
    await asyncio.sleep(0.5)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    with d.client() as direct:
        for _ in range(200):
            runs = direct.call("testrun.history", root=str(project))["runs"]
            if runs:
                break
            await asyncio.sleep(0.1)
    assert runs and runs[0].get("cancelled") is True
    assert ok(await c.call_tool("cache_get", {"key": "x"}))["found"] is False
