"""A real `catalytic mcp` subprocess driven by the SDK's stdio client through an agent's loop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from mcp import Client, StdioServerParameters
from mcp_project import BUG, cancel_a_slow_run, copy_project, daemon_config, edit, err, ok

from catalytic.client.commands.mcp import command_path
from catalytic.client.discover import read_status
from catalytic.client.mcp.budget import TOOLS_TOKEN_BUDGET, count_tokens


def stdio(env: dict[str, str], *args: str) -> Client:
    command, *lead = command_path()
    return Client(StdioServerParameters(command=command, args=[*lead, *args, "mcp"], env=env))


async def test_the_whole_loop_over_stdio(make_daemon, tmp_path: Path) -> None:
    d = make_daemon(daemon_config(tmp_path))
    project = copy_project(tmp_path)
    async with stdio(d.env, "--no-autostart") as c:
        names = {t.name for t in (await c.list_tools()).tools}
        assert names == {"parse_prd", "get_tasks", "get_task", "next_task", "set_task_status",
                         "expand_task", "run_tests", "cache_put", "cache_get", "daemon_status"}
        parsed = ok(await c.call_tool("parse_prd", {"text": (project / "PRD.md").read_text(),
                                                    "document": "calc"}))
        assert parsed["tasks"] == 7
        task = ok(await c.call_tool("next_task", {"document": "calc"}))["task"]
        assert task["id"] == "arithmetic/fr-1" and "addition" in task["title"]
        ok(await c.call_tool("set_task_status", {"document": "calc", "id": task["id"],
                                                 "status": "in-progress"}))

        ops = project / "calc" / "ops.py"
        edit(ops, *BUG)
        red = ok(await c.call_tool("run_tests", {"root": str(project)}))
        assert red["failed"] == 1 and red["passed"] == 3
        assert [f["nodeid"] for f in red["failures"]] == ["tests/check_ops.py::test_add"]
        assert red["failures"][0]["message"]

        edit(ops, BUG[1], BUG[0])
        green = ok(await c.call_tool("run_tests", {"root": str(project)}))
        assert (green["failed"], green["passed"], green["failures"]) == (0, 4, [])

        ok(await c.call_tool("set_task_status", {"document": "calc", "id": task["id"],
                                                 "status": "done"}))
        after = ok(await c.call_tool("next_task", {"document": "calc"}))["task"]
        assert after["id"] == "arithmetic/fr-2"  # it waited for fr-1

        e = err(await c.call_tool("get_task", {"document": "calc", "id": "nope"}))
        assert e["code"] == -33003


async def test_a_cancelled_request_cancels_the_test_run(make_daemon, tmp_path: Path) -> None:
    d = make_daemon(daemon_config(tmp_path))
    project = copy_project(tmp_path)
    async with stdio(d.env, "--no-autostart") as c:
        await cancel_a_slow_run(c, d, project)


async def test_mcp_starts_the_daemon_like_the_cli(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATALYTIC_")}
    env.update(CATALYTIC_SOCKET=str(tmp_path / "run" / "c.sock"),
               XDG_STATE_HOME=str(tmp_path / "state"), XDG_CONFIG_HOME=str(tmp_path / "cfg"),
               CATALYTIC_HTTP_PORT="0")
    try:
        async with stdio(env) as c:
            status = ok(await c.call_tool("daemon_status", {}))
            assert status["socket"] == env["CATALYTIC_SOCKET"]
    finally:
        found = read_status(tmp_path / "run" / "c.sock")
        if found is not None:
            os.kill(found.pid, signal.SIGTERM)
    assert found is not None and found.pid == status["pid"]


def test_print_config_names_this_install() -> None:
    command, *lead = command_path()
    out = subprocess.run([command, *lead, "mcp", "--print-config"], capture_output=True,
                         text=True, check=True)
    entry: dict[str, Any] = json.loads(out.stdout)["mcpServers"]["catalytic"]
    assert Path(entry["command"]).is_absolute() and Path(entry["command"]).exists()
    assert entry["args"][-1] == "mcp"
    ran = subprocess.run([entry["command"], *entry["args"][:-1], "--help"],
                         capture_output=True, text=True, check=True)
    assert "mcp" in ran.stdout


def test_the_client_library_does_not_load_the_sdk() -> None:
    code = ("import sys, catalytic.client, catalytic.client.cli; catalytic.client.cli.parser(); "
            "print([m for m in sys.modules if m.split('.')[0] in ('mcp', 'pydantic', 'anyio')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_stdout_carries_only_protocol_messages(tmp_path: Path) -> None:
    """Raw JSON-RPC lines in; every stdout line is a JSON-RPC message, logs are on stderr."""
    command, *lead = command_path()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATALYTIC_")}
    proc = subprocess.Popen(
        [command, *lead, "--no-autostart", "--socket", str(tmp_path / "none.sock"), "mcp",
         "--log-level", "DEBUG"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert proc.stdin is not None and proc.stdout is not None
    requests = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                    "clientInfo": {"name": "raw", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
         "params": {"name": "next_task", "arguments": {}}},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/list"},
    ]
    answers: dict[int, Any] = {}
    raw: dict[int, str] = {}
    for message in requests:
        proc.stdin.write((json.dumps(message) + "\n").encode())
        proc.stdin.flush()
        if "id" in message:
            while message["id"] not in answers:
                line = proc.stdout.readline()
                assert line, "the server closed stdout"
                decoded = json.loads(line)
                assert decoded["jsonrpc"] == "2.0"
                if "id" in decoded:
                    answers[decoded["id"]] = decoded
                    raw[decoded["id"]] = line.decode()
    proc.stdin.close()
    rest, stderr = proc.stdout.read(), proc.stderr.read() if proc.stderr else b""
    assert proc.wait(30) == 0
    for line in rest.splitlines():
        assert json.loads(line)["jsonrpc"] == "2.0"
    assert answers[1]["result"]["serverInfo"]["name"] == "catalytic"
    call = answers[2]["result"]
    assert call["isError"] is True and call["structuredContent"]["error"] == "not-running"
    assert b"not running" in stderr  # the log line went to stderr
    # The budget holds for the tool list exactly as it arrives, envelope included.
    assert len(answers[3]["result"]["tools"]) == 10
    assert count_tokens(raw[3]) <= TOOLS_TOKEN_BUDGET
