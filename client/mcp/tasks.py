"""The task-graph tools: parse a PRD, list, show, pick next, set status, expand.

Plain async functions over a `DaemonLink` returning short JSON-ready maps; the
MCP layer only wraps them. Verbs added by newer daemons (`prd.tasks`, a
`revision` in `prd.decompose`'s answer) are used where the daemon has them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from catalytic.client.mcp.link import DaemonLink, ProgressSink, ToolFailure

STATUSES = ("pending", "in-progress", "blocked", "done", "cancelled", "deferred")
TOP_LEVEL_SHOWN = 40
"""parse_prd lists at most this many top-level tasks (the count says how many exist)."""
WARNINGS_SHOWN = 10
PAGE = 1000


def brief(task: dict[str, Any]) -> dict[str, Any]:
    """The few fields an agent needs to pick a task."""
    out = {"id": task["id"], "title": task["title"], "status": task.get("status", "pending"),
           "priority": task.get("priority"), "kind": task.get("kind")}
    if task.get("dependencies"):
        out["dependencies"] = list(task["dependencies"])
    return out


async def parse_prd(link: DaemonLink, *, path: str | None, text: str | None, document: str,
                    progress: ProgressSink | None = None) -> dict[str, Any]:
    if (path is None) == (text is None):
        raise ToolFailure("give exactly one of `path` or `text`", -32602, "input")
    if path is not None:
        try:
            text = Path(path).expanduser().read_bytes().decode("utf-8", errors="replace")
        except OSError as exc:
            raise ToolFailure(f"cannot read {path}: {exc.strerror or exc}", -32602,
                              "input") from None
    result = await link.call("prd.decompose", {"text": text, "document": document},
                             progress=progress)
    tasks = result.get("tasks") or []
    top = [t for t in tasks if t.get("parent") is None]
    stats = result.get("stats", {})
    out: dict[str, Any] = {
        "document": document,
        "tasks": stats.get("tasks", len(tasks)),
        "top_level": [{"id": t["id"], "title": t["title"], "kind": t.get("kind")}
                      for t in top[:TOP_LEVEL_SHOWN]],
        "sections": {k: stats[k] for k in ("sections_total", "sections_reused",
                                           "sections_recomputed") if k in stats},
    }
    if len(top) > TOP_LEVEL_SHOWN:
        out["top_level_more"] = len(top) - TOP_LEVEL_SHOWN
    warnings = list(result.get("warnings") or [])
    problems = result.get("problems") or {}
    warnings += [f"missing reference: {m.get('task')} -> {m.get('ref')}"
                 for m in problems.get("missing", [])]
    warnings += ["dependency cycle: " + " -> ".join(str(x.get("id")) for x in c)
                 for c in problems.get("cycles", [])]
    if warnings:
        out["warnings"] = warnings[:WARNINGS_SHOWN]
        if len(warnings) > WARNINGS_SHOWN:
            out["warnings_more"] = len(warnings) - WARNINGS_SHOWN
    if "revision" in result:
        out["revision"] = result["revision"]
    changes = result.get("changes")
    if isinstance(changes, dict):
        out["changes"] = {k: len(changes.get(k) or []) for k in ("added", "changed", "removed")}
    return out


async def all_tasks(link: DaemonLink, document: str) -> list[dict[str, Any]]:
    """Every stored task of `document` with its status, in document order."""
    if await link.has_method("prd.tasks"):
        limit = (await link.param("prd.tasks", "limit") or {}).get("max") or PAGE
        tasks: list[dict[str, Any]] = []
        while True:
            page = await link.call("prd.tasks", {"document": document, "offset": len(tasks),
                                                 "limit": min(PAGE, int(limit))})
            tasks += page.get("tasks") or []
            if not page.get("tasks") or len(tasks) >= int(page.get("total", 0)):
                break
    else:
        exported = await link.call("prd.export", {"document": document, "format": "json"})
        tasks = json.loads(exported["content"])["tasks"]
    if tasks and any("status" not in t for t in tasks):
        status = (await link.call("prd.status", {"document": document}))["status"]
        tasks = [{**t, "status": status.get(t["id"], "pending")} for t in tasks]
    return tasks


async def get_tasks(link: DaemonLink, *, document: str, status: str | None, offset: int,
                    limit: int) -> dict[str, Any]:
    tasks = await all_tasks(link, document)
    if status is not None:
        tasks = [t for t in tasks if t.get("status") == status]
    page = tasks[offset:offset + limit]
    out: dict[str, Any] = {"document": document, "total": len(tasks),
                           "tasks": [brief(t) for t in page]}
    if offset + limit < len(tasks):
        out["next_offset"] = offset + limit
    return out


def _find(tasks: list[dict[str, Any]], task_id: str) -> dict[str, Any]:
    for t in tasks:
        if t["id"] == task_id:
            return t
    raise ToolFailure(f"no task {task_id!r} in that document", -33003)


async def get_task(link: DaemonLink, *, document: str, task_id: str) -> dict[str, Any]:
    tasks = await all_tasks(link, document)
    task = _find(tasks, task_id)
    by_id = {t["id"]: t for t in tasks}
    out = {k: task[k] for k in ("id", "title", "description", "status", "priority", "kind",
                                "complexity", "parent", "lines") if task.get(k) is not None}
    for k in ("acceptance_criteria", "test_strategy"):
        if task.get(k):
            out[k] = task[k]
    out["dependencies"] = [{"id": d, "title": by_id[d]["title"], "status": by_id[d]["status"]}
                           if d in by_id else {"id": d, "missing": True}
                           for d in task.get("dependencies") or []]
    out["subtasks"] = [{"id": t["id"], "title": t["title"], "status": t["status"]}
                       for t in tasks if t.get("parent") == task_id]
    return out


async def next_task(link: DaemonLink, *, document: str) -> dict[str, Any]:
    picked = (await link.call("prd.next", {"document": document, "limit": 3}))["tasks"]
    if not picked:
        counts = (await link.call("prd.status", {"document": document}))["counts"]
        open_ = {k: v for k, v in counts.items() if v and k not in ("done", "cancelled")}
        why = ("every task is done or cancelled" if not open_ else
               "nothing is available: the open tasks wait for dependencies, are blocked "
               "or deferred")
        return {"document": document, "task": None, "why": why,
                "counts": {k: v for k, v in counts.items() if v}}
    task = picked[0]
    deps = task.get("dependencies") or []
    reasons = ["already in progress" if task.get("status") == "in-progress" else "pending"]
    reasons.append(f"all {len(deps)} dependencies done" if deps else "no dependencies")
    reasons.append(f"priority {task.get('priority')}")
    if len(picked) > 1:
        reasons.append(f"ahead of {picked[1]['id']} by {ahead_by(task, picked[1])}")
    out: dict[str, Any] = {
        "document": document,
        "task": {**brief(task), "description": task.get("description", ""),
                 "complexity": task.get("complexity"), "lines": task.get("lines")},
        "why": "; ".join(reasons),
    }
    if len(picked) > 1:
        out["also_available"] = [t["id"] for t in picked[1:]]
    return out


PRIORITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}


def ahead_by(first: dict[str, Any], second: dict[str, Any]) -> str:
    """Which rule of prd.next's order put `first` before `second`."""
    if (first.get("status") == "in-progress") != (second.get("status") == "in-progress"):
        return "being in progress"
    if PRIORITY_RANK.get(first.get("priority", ""), 9) != PRIORITY_RANK.get(
            second.get("priority", ""), 9):
        return "priority"
    if len(first.get("dependencies") or []) != len(second.get("dependencies") or []):
        return "fewer dependencies"
    return "document order"


async def set_task_status(link: DaemonLink, *, document: str, task_id: str,
                          status: str) -> dict[str, Any]:
    result = await link.call("prd.status", {"document": document, "id": task_id,
                                            "status": status})
    return {"document": document, "id": result["id"], "status": result["status"]}


EXPAND_MAX = 200
"""expand_task returns at most this many nodes of a subtree."""


async def expand_task(link: DaemonLink, *, document: str, task_id: str) -> dict[str, Any]:
    tasks = await all_tasks(link, document)
    root = _find(tasks, task_id)
    children: dict[str, list[dict[str, Any]]] = {}
    for t in tasks:
        if t.get("parent") is not None:
            children.setdefault(t["parent"], []).append(t)
    budget = [EXPAND_MAX]
    cut = [False]

    def node(t: dict[str, Any]) -> dict[str, Any]:
        budget[0] -= 1
        out = brief(t)
        kids = children.get(t["id"], [])
        shown = []
        for k in kids:
            if budget[0] <= 0:
                break
            shown.append(node(k))
        if shown:
            out["subtasks"] = shown
        if len(shown) < len(kids):
            out["subtasks_more"] = len(kids) - len(shown)
            cut[0] = True
        return out

    tree = node(root)
    return {"document": document, "task": tree, "truncated": cut[0]}
