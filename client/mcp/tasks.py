"""The task-graph tools: parse a PRD, list, show, pick next, set status, expand.

Plain async functions over a `DaemonLink` returning short JSON-ready maps; the
MCP layer only wraps them. Verbs added by newer daemons (`prd.tasks`, a
`revision` in `prd.decompose`'s answer) are used where the daemon has them:
then a document's graph is read once per revision and kept, and each call reads
only the statuses it shows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalytic.client.mcp.link import DaemonLink, ProgressSink, ToolFailure

TOP_LEVEL_SHOWN = 40
"""parse_prd lists at most this many top-level tasks (the count says how many exist)."""
WARNINGS_SHOWN = 10
PAGE = 10_000
"""Tasks asked for per prd.tasks page when reading a whole graph."""
STATUS_BY_ID_MAX = 200
"""Above this many tasks, statuses are read as the whole status map instead of by id."""


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
        if "tasks" in result and await _by_ids(link):  # the whole graph at that revision
            link.graphs[document] = (result["revision"], Graph(tasks, fresh=False))
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


@dataclass
class Graph:
    """A document's tasks indexed for the task tools.

    `fresh` says whether the statuses in `tasks` were read by this call; a graph
    kept from an earlier call (same revision) has stale statuses, so callers
    read the statuses they show through `statuses`.
    """

    tasks: list[dict[str, Any]]
    fresh: bool
    by_id: dict[str, dict[str, Any]] = field(init=False)
    children: dict[str, list[dict[str, Any]]] = field(init=False)

    def __post_init__(self) -> None:
        self.by_id = {t["id"]: t for t in self.tasks}
        self.children = {}
        for t in self.tasks:
            if t.get("parent") is not None:
                self.children.setdefault(t["parent"], []).append(t)

    def task(self, task_id: str) -> dict[str, Any]:
        if task_id not in self.by_id:
            raise ToolFailure(f"no task {task_id!r} in that document", -33003)
        return self.by_id[task_id]


async def _by_ids(link: DaemonLink) -> bool:
    """Does the daemon page tasks by id (and name each stored state with a revision)?"""
    return await link.has_param("prd.tasks", "ids")


async def graph(link: DaemonLink, document: str) -> Graph:
    """The document's graph; kept per revision where the daemon names revisions."""
    if not await _by_ids(link):
        return Graph(await all_tasks(link, document), fresh=True)
    head = await link.call("prd.tasks", {"document": document, "ids": [], "limit": 1})
    kept = link.graphs.get(document)
    if kept is not None and kept[0] == head["revision"]:
        return kept[1]
    # Read once, then kept until the document's text changes (its revision does).
    whole = Graph(await all_tasks(link, document), fresh=True)
    link.graphs[document] = (head["revision"], Graph(whole.tasks, fresh=False))
    return whole


async def statuses(link: DaemonLink, document: str, g: Graph,
                   ids: list[str]) -> dict[str, str]:
    """The current status of each of `ids` (one small call when the graph was kept)."""
    if g.fresh or not ids:
        return {i: g.by_id[i].get("status", "pending") for i in ids if i in g.by_id}
    if len(ids) > STATUS_BY_ID_MAX:  # the status map is smaller than that many whole tasks
        return dict((await link.call("prd.status", {"document": document}))["status"])
    page = await link.call("prd.tasks", {"document": document, "ids": ids, "limit": len(ids)})
    return {t["id"]: t.get("status", "pending") for t in page.get("tasks") or []}


async def get_tasks(link: DaemonLink, *, document: str, status: str | None, offset: int,
                    limit: int) -> dict[str, Any]:
    if status is None and await _by_ids(link):
        page = await link.call("prd.tasks", {"document": document, "offset": offset,
                                             "limit": limit})
        tasks, total = page.get("tasks") or [], int(page.get("total", 0))
    else:
        g = await graph(link, document)
        current = await statuses(link, document, g, [t["id"] for t in g.tasks])
        matching = [{**t, "status": current.get(t["id"], "pending")} for t in g.tasks
                    if status is None or current.get(t["id"], "pending") == status]
        tasks, total = matching[offset:offset + limit], len(matching)
    out: dict[str, Any] = {"document": document, "total": total,
                           "tasks": [brief(t) for t in tasks]}
    if offset + limit < total:
        out["next_offset"] = offset + limit
    return out


async def get_task(link: DaemonLink, *, document: str, task_id: str) -> dict[str, Any]:
    g = await graph(link, document)
    task = g.task(task_id)
    deps = list(task.get("dependencies") or [])
    kids = g.children.get(task_id, [])
    current = await statuses(link, document, g,
                             [task_id, *[d for d in deps if d in g.by_id],
                              *[k["id"] for k in kids]])
    out = {k: task[k] for k in ("id", "title", "description", "priority", "kind",
                                "complexity", "parent", "lines") if task.get(k) is not None}
    out["status"] = current.get(task_id, "pending")
    for k in ("acceptance_criteria", "test_strategy"):
        if task.get(k):
            out[k] = task[k]
    out["dependencies"] = [{"id": d, "title": g.by_id[d]["title"],
                            "status": current.get(d, "pending")}
                           if d in g.by_id else {"id": d, "missing": True} for d in deps]
    out["subtasks"] = [{"id": k["id"], "title": k["title"],
                        "status": current.get(k["id"], "pending")} for k in kids]
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
    g = await graph(link, document)
    root = g.task(task_id)
    shown: list[dict[str, Any]] = []
    cut = [False]

    def node(t: dict[str, Any]) -> dict[str, Any]:
        out = brief(t)
        shown.append(out)
        kids = g.children.get(t["id"], [])
        subtasks = []
        for k in kids:
            if len(shown) >= EXPAND_MAX:
                break
            subtasks.append(node(k))
        if subtasks:
            out["subtasks"] = subtasks
        if len(subtasks) < len(kids):
            out["subtasks_more"] = len(kids) - len(subtasks)
            cut[0] = True
        return out

    tree = node(root)
    current = await statuses(link, document, g, [n["id"] for n in shown])
    for n in shown:
        n["status"] = current.get(n["id"], "pending")
    return {"document": document, "task": tree, "truncated": cut[0]}
