"""Every MCP tool, in memory (the SDK's Client on the server object) against a real daemon."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp_project import BUG, cancel_a_slow_run, copy_project, daemon_config, edit, err, ok

from catalytic.client.mcp.link import DaemonLink
from catalytic.client.mcp.server import build_server

DOC = "calc"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path)


@pytest.fixture
def served(make_daemon, tmp_path: Path) -> Any:
    d = make_daemon(daemon_config(tmp_path))
    return d, build_server(DaemonLink(d.socket, autostart=False))


async def test_task_tools(served, project: Path) -> None:
    _, server = served
    async with Client(server) as c:
        parsed = ok(await c.call_tool("parse_prd", {"path": str(project / "PRD.md"),
                                                    "document": DOC}))
        assert parsed["tasks"] == 7
        assert [t["id"] for t in parsed["top_level"]] == ["arithmetic", "statistics"]
        assert parsed["sections"]["sections_recomputed"] == parsed["sections"]["sections_total"]
        # Parsing the same text again is the incremental path: nothing recomputed.
        again = ok(await c.call_tool("parse_prd", {"text": (project / "PRD.md").read_text(),
                                                   "document": DOC}))
        assert again["tasks"] == 7 and again["sections"].get("sections_recomputed", 0) == 0

        listed = ok(await c.call_tool("get_tasks", {"document": DOC, "limit": 3}))
        assert listed["total"] == 7 and len(listed["tasks"]) == 3 and listed["next_offset"] == 3
        rest = ok(await c.call_tool("get_tasks", {"document": DOC, "offset": 3}))
        assert len(rest["tasks"]) == 4 and "next_offset" not in rest
        ids = [t["id"] for t in listed["tasks"] + rest["tasks"]]
        assert len(set(ids)) == 7

        nxt = ok(await c.call_tool("next_task", {"document": DOC}))
        assert nxt["task"]["id"] == "arithmetic/fr-1"
        assert "priority high" in nxt["why"] and "no dependencies" in nxt["why"]
        assert f"ahead of {nxt['also_available'][0]} by priority" in nxt["why"]

        fr2 = ok(await c.call_tool("get_task", {"document": DOC, "id": "arithmetic/fr-2"}))
        assert fr2["dependencies"] == [{"id": "arithmetic/fr-1",
                                        "title": nxt["task"]["title"], "status": "pending"}]
        fr3 = ok(await c.call_tool("get_task", {"document": DOC, "id": "statistics/fr-3"}))
        assert [s["title"] for s in fr3["subtasks"]] == [
            "Refuse an empty list with a ValueError", "Accept integers and floats"]

        done = ok(await c.call_tool("set_task_status", {"document": DOC, "id": "arithmetic/fr-1",
                                                        "status": "done"}))
        assert done == {"document": DOC, "id": "arithmetic/fr-1", "status": "done"}
        only_done = ok(await c.call_tool("get_tasks", {"document": DOC, "status": "done"}))
        assert [t["id"] for t in only_done["tasks"]] == ["arithmetic/fr-1"]
        # Statuses are current even where the graph itself was kept from an earlier call.
        fr2_now = ok(await c.call_tool("get_task", {"document": DOC, "id": "arithmetic/fr-2"}))
        assert fr2_now["dependencies"][0]["status"] == "done"
        moved = ok(await c.call_tool("next_task", {"document": DOC}))
        assert moved["task"]["id"] == "arithmetic/fr-2"
        assert "all 1 dependencies done" in moved["why"]

        ok(await c.call_tool("set_task_status", {"document": DOC, "id": "statistics/fr-3",
                                                 "status": "in-progress"}))
        tree = ok(await c.call_tool("expand_task", {"document": DOC, "id": "statistics"}))
        assert tree["truncated"] is False
        fr3_node = tree["task"]["subtasks"][0]
        assert fr3_node["id"] == "statistics/fr-3" and len(fr3_node["subtasks"]) == 2
        assert fr3_node["status"] == "in-progress"

        for t in ("arithmetic/fr-2", "arithmetic", "statistics/fr-3/refuse-an-empty-list-with-a",
                  "statistics/fr-3/accept-integers-and-floats", "statistics/fr-3",
                  "statistics"):
            ok(await c.call_tool("set_task_status", {"document": DOC, "id": t,
                                                     "status": "done"}))
        finished = ok(await c.call_tool("next_task", {"document": DOC}))
        assert finished["task"] is None and "done" in finished["why"]


async def test_task_tools_without_paged_tasks(make_daemon, project: Path) -> None:
    """A daemon without `prd.tasks` (before revisions): the graph is read through prd.export."""
    d = make_daemon()
    link = DaemonLink(d.socket, autostart=False)
    await link.client()
    link.hello["methods"].pop("prd.tasks", None)  # as an older daemon would answer hello
    async with Client(build_server(link)) as c:
        ok(await c.call_tool("parse_prd", {"path": str(project / "PRD.md"), "document": DOC}))
        ok(await c.call_tool("set_task_status", {"document": DOC, "id": "arithmetic/fr-1",
                                                 "status": "done"}))
        fr2 = ok(await c.call_tool("get_task", {"document": DOC, "id": "arithmetic/fr-2"}))
        assert fr2["dependencies"][0]["status"] == "done"
        done = ok(await c.call_tool("get_tasks", {"document": DOC, "status": "done"}))
        assert [t["id"] for t in done["tasks"]] == ["arithmetic/fr-1"]
        page = ok(await c.call_tool("get_tasks", {"document": DOC, "offset": 5}))
        assert page["total"] == 7 and len(page["tasks"]) == 2
        tree = ok(await c.call_tool("expand_task", {"document": DOC, "id": "arithmetic"}))
        assert [t["status"] for t in tree["task"]["subtasks"]] == ["done", "pending"]
        assert err(await c.call_tool("get_task", {"document": DOC, "id": "x"}))["code"] == -33003
    assert link.graphs == {}  # nothing kept without revisions
    await link.close()


async def test_cache_and_status_tools(served) -> None:
    d, server = served
    async with Client(server) as c:
        put = ok(await c.call_tool("cache_put", {"key": "notes/plan", "text": "step 1 ✓"}))
        assert put["key"] == "notes/plan" and put["size"] == len("step 1 ✓".encode())
        got = ok(await c.call_tool("cache_get", {"key": "notes/plan"}))
        assert got == {"key": "notes/plan", "found": True, "size": put["size"],
                       "text": "step 1 ✓"}
        blob = bytes(range(256)) * 16
        ok(await c.call_tool("cache_put", {"key": "blob", "base64": base64.b64encode(blob)
                                           .decode()}))
        back = ok(await c.call_tool("cache_get", {"key": "blob"}))
        assert base64.b64decode(back["base64"]) == blob and "text" not in back
        # The same bytes are there for any other client of the daemon.
        with d.client() as direct:
            assert direct.call("workspace.get", key="blob")["data"] == blob
        assert ok(await c.call_tool("cache_get", {"key": "absent"})) == {"key": "absent",
                                                                         "found": False}

        status = ok(await c.call_tool("daemon_status", {}))
        assert status["version"] and status["pid"] == d.pid
        assert {"prd", "testrun", "workspace"} <= set(status["plugins"])
        assert status["dashboard"].startswith("http://127.0.0.1:")
        assert status["load"]["connections"] >= 1


async def test_run_tests_reports_only_failures_with_clipped_tracebacks(served,
                                                                       project: Path) -> None:
    _, server = served
    async with Client(server) as c:
        green = ok(await c.call_tool("run_tests", {"root": str(project)}))
        assert (green["passed"], green["failed"], green["failures"]) == (4, 0, [])
        assert green["exit_status"] == 0 and green["duration_s"] > 0
        assert "results" not in green

        edit(project / "calc" / "ops.py", *BUG)
        red = ok(await c.call_tool("run_tests", {"root": str(project), "args": ["-q"],
                                                 "python": sys.executable}))
        assert (red["passed"], red["failed"]) == (3, 1)
        [failure] = red["failures"]
        assert failure["nodeid"] == "tests/check_ops.py::test_add"
        assert failure["message"].startswith("assert")
        assert "assert -1 == 5" in failure["traceback"]
        assert len(failure["traceback"].splitlines()) <= 12
        assert len(json.dumps(red)) < 2000


async def test_affected_selection_is_asked_only_of_a_daemon_that_has_it(served,
                                                                        project: Path) -> None:
    d, server = served
    with d.client() as direct:
        params = direct.hello_info["methods"]["testrun.run"]["params"]
    has_select = any(p["name"] == "select" for p in params)
    async with Client(server) as c:
        default = ok(await c.call_tool("run_tests", {"root": str(project)}))
        affected = ok(await c.call_tool("run_tests", {"root": str(project),
                                                      "select": "affected"}))
    if has_select:
        assert default["select"] == "affected-first" and affected["select"] == "affected"
        assert "selected" in affected and "note" not in affected
    else:
        assert "select" not in default and "note" not in default
        assert "cannot select affected tests" in affected["note"]
        assert affected["passed"] == default["passed"] == 4


async def test_daemon_errors_become_tool_errors(served, project: Path, tmp_path: Path) -> None:
    _, server = served
    async with Client(server) as c:
        e = err(await c.call_tool("get_tasks", {"document": "never-parsed"}))
        assert e["code"] == -33002 and "never-parsed" in e["message"]
        ok(await c.call_tool("parse_prd", {"path": str(project / "PRD.md"), "document": DOC}))
        e = err(await c.call_tool("get_task", {"document": DOC, "id": "nope"}))
        assert e["code"] == -33003 and "nope" in e["message"]
        e = err(await c.call_tool("set_task_status", {"document": DOC, "id": "nope",
                                                      "status": "done"}))
        assert e["code"] == -33003
        result = await c.call_tool("set_task_status", {"document": DOC, "id": "arithmetic",
                                                       "status": "finished"})
        assert result.is_error and "status" in result.content[0].text
        e = err(await c.call_tool("parse_prd", {"document": DOC}))
        assert e["code"] == -32602 and "path" in e["message"]
        e = err(await c.call_tool("parse_prd", {"path": str(tmp_path / "missing.md")}))
        assert e["code"] == -32602 and "missing.md" in e["message"]
        e = err(await c.call_tool("cache_put", {"key": "k", "base64": "%%%"}))
        assert e["code"] == -32602 and "base64" in e["message"]
        e = err(await c.call_tool("run_tests", {"root": str(project),
                                                "python": str(tmp_path / "no-python")}))
        assert e["code"] in (-32602, -32003) and "no-python" in e["message"]
        e = err(await c.call_tool("run_tests", {"root": "no/such/relative/path"}))
        assert e["code"] == -32003 and os.path.join(os.getcwd(), "no/such") in e["message"]
        outside = Path(os.path.dirname(tmp_path))  # not below testrun.allowed_roots
        e = err(await c.call_tool("run_tests", {"root": str(outside)}))
        assert e["code"] == -32003 and "allowed_roots" in e["message"]
        # The server carries on after every error.
        assert ok(await c.call_tool("next_task", {"document": DOC}))["task"]


async def test_concurrent_calls_share_one_connection(served) -> None:
    _, server = served
    async with Client(server) as c:
        puts = await asyncio.gather(*(c.call_tool("cache_put", {"key": f"k{i}", "text": str(i)})
                                      for i in range(20)))
        assert all(not r.is_error for r in puts)
        gets = await asyncio.gather(*(c.call_tool("cache_get", {"key": f"k{i}"})
                                      for i in range(20)))
        assert [ok(r)["text"] for r in gets] == [str(i) for i in range(20)]
        status = ok(await c.call_tool("daemon_status", {}))
    assert status["load"]["connections"] == 1  # one daemon connection for every call


async def test_no_daemon_is_a_tool_error_not_a_crash(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    server = build_server(DaemonLink(tmp_path / "none.sock", autostart=False))
    async with Client(server) as c:
        e = err(await c.call_tool("next_task", {}))
        assert e["error"] == "not-running" and "auto-start is off" in e["message"]
        # Auto-start that cannot work: the socket's folder is a file.
        monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
        (tmp_path / "file").write_text("")
        starting = build_server(DaemonLink(tmp_path / "file" / "c.sock", autostart=True))
        async with Client(starting) as c2:
            e = err(await c2.call_tool("daemon_status", {}))
            assert e["error"] == "not-running" and "could not be started" in e["message"]
        # The first server still answers.
        assert err(await c.call_tool("cache_get", {"key": "x"}))["error"] == "not-running"


async def test_a_lost_daemon_is_reconnected(make_daemon, tmp_path: Path) -> None:
    d = make_daemon(daemon_config(tmp_path))
    async with Client(build_server(DaemonLink(d.socket, autostart=False))) as c:
        first = ok(await c.call_tool("daemon_status", {}))
        d.restart()
        await asyncio.sleep(0.5)  # the old connection's end is seen before the next call
        second = ok(await c.call_tool("daemon_status", {}))
        assert second["pid"] != first["pid"]


async def test_progress_is_forwarded(served, project: Path) -> None:
    _, server = served
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        seen.append((done, total, message))

    big = "# Big\n\n" + "".join(
        f"## Area {i}\n\n" + "".join(f"- Build part {j} of area {i}\n" for j in range(5)) + "\n"
        for i in range(300))
    async with Client(server) as c:
        parsed = ok(await c.call_tool("parse_prd", {"text": big, "document": "big"},
                                      progress_callback=on_progress))
        assert parsed["tasks"] == 300 * 6 and parsed["top_level_more"] == 300 - 40
        assert len(seen) >= 2 and seen[0][0] < seen[0][1]  # a first note, then more
        assert seen[-1][0] == seen[-1][1] and seen[-1][2]  # the final one: done == total
        seen.clear()
        ok(await c.call_tool("run_tests", {"root": str(project)}, progress_callback=on_progress))
        assert seen and all(t is None or d <= t for d, t, _ in seen)


async def test_cancelling_a_tool_call_cancels_the_daemon_call(served, project: Path) -> None:
    d, server = served
    async with Client(server) as c:
        await cancel_a_slow_run(c, d, project)
