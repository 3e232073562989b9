"""Exports (catalytic JSON, Task Master tasks.json, Mermaid, Markdown) and Task Master import.

Task Master has two levels (tasks with integer IDs, subtasks numbered inside
their task), so every task below a top-level one becomes one of its subtasks;
dependencies that cross top-level tasks are lifted to the top-level task. The
stable catalytic ID is kept on the first line of `details`, which lets
`import_taskmaster` map statuses back without guessing.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

SCHEMA = "catalytic.prd/1"
TM_PRIORITY = {"critical": "high", "high": "high", "medium": "medium", "low": "low"}
TM_STATUS = {"pending", "in-progress", "blocked", "done", "cancelled", "deferred", "review"}
ID_LINE = re.compile(r"^catalytic-id: (\S+)", re.M)


def to_json(document: str, tasks: list[dict[str, Any]], status: dict[str, str],
            graph: dict[str, Any]) -> dict[str, Any]:
    """catalytic's own schema (documented in docs/prd.md)."""
    return {"schema": SCHEMA, "document": document,
            "tasks": [{**t, "status": status.get(t["id"], "pending")} for t in tasks],
            "graph": graph}


def to_taskmaster(tasks: list[dict[str, Any]], status: dict[str, str],
                  tag: str = "master", description: str = "") -> dict[str, Any]:
    """Task Master's tagged tasks.json: {tag: {tasks: [...], metadata: {...}}}."""
    top_of: dict[str, str] = {}
    for t in tasks:
        top_of[t["id"]] = top_of.get(t["parent"], t["id"]) if t["parent"] else t["id"]
    numbers: dict[str, int] = {}
    sub_numbers: dict[str, int] = {}
    out: list[dict[str, Any]] = []
    by_top: dict[str, dict[str, Any]] = {}
    for t in tasks:
        if t["parent"] is None:
            numbers[t["id"]] = len(out) + 1
            entry = _tm_fields(t, status)
            entry["id"] = numbers[t["id"]]
            entry["subtasks"] = []
            out.append(entry)
            by_top[t["id"]] = entry
        else:
            parent = by_top[top_of[t["id"]]]
            sub = _tm_fields(t, status)
            sub["id"] = len(parent["subtasks"]) + 1
            sub_numbers[t["id"]] = sub["id"]
            parent["subtasks"].append(sub)
    for t in tasks:
        top = top_of[t["id"]]
        entry = by_top[top]
        target = entry if t["parent"] is None else entry["subtasks"][sub_numbers[t["id"]] - 1]
        for d in t["dependencies"]:
            if d not in top_of:
                continue
            if top_of[d] != top:
                if numbers[top_of[d]] not in entry["dependencies"]:
                    entry["dependencies"].append(numbers[top_of[d]])
            elif t["parent"] is not None and d in sub_numbers:
                target["dependencies"].append(sub_numbers[d])
    now = datetime.now(UTC).isoformat()
    return {tag: {"tasks": out, "metadata": {
        "created": now, "updated": now,
        "description": description or "Tasks decomposed by catalytic prd"}}}


def _tm_fields(t: dict[str, Any], status: dict[str, str]) -> dict[str, Any]:
    st = status.get(t["id"], "pending")
    details = [f"catalytic-id: {t['id']}", f"lines: {t['lines'][0]}-{t['lines'][1]}",
               f"kind: {t['kind']}; complexity: {t['complexity']}"]
    if t["acceptance_criteria"]:
        details.append("acceptance criteria:")
        details += [f"- {a}" for a in t["acceptance_criteria"]]
    return {"id": 0, "title": t["title"] or t["id"], "description": t["description"],
            "details": "\n".join(details), "testStrategy": t.get("test_strategy", ""),
            "priority": TM_PRIORITY.get(t["priority"], "medium"), "dependencies": [],
            "status": st if st in TM_STATUS else "pending"}


def import_taskmaster(data: dict[str, Any], tasks: list[dict[str, Any]], tag: str = "master"
                      ) -> tuple[dict[str, str], list[str]]:
    """Statuses by catalytic ID from a Task Master file; also the entries that matched nothing.

    An entry is matched by the `catalytic-id:` line of its details, else by its
    title among tasks with the same title (first unclaimed one).
    """
    if "tasks" in data and isinstance(data["tasks"], list):
        section = data
    elif tag in data and isinstance(data[tag], dict):
        section = data[tag]
    else:
        raise ValueError(f"not a Task Master tasks.json: no tasks list and no tag {tag!r}")
    ids = {t["id"] for t in tasks}
    by_title: dict[str, list[str]] = {}
    for t in tasks:
        by_title.setdefault(t["title"].strip().lower(), []).append(t["id"])
    found: dict[str, str] = {}
    unmatched: list[str] = []
    for entry in _walk(section.get("tasks", [])):
        st = str(entry.get("status", "pending"))
        if st == "review":
            st = "in-progress"
        if st == "todo":
            st = "pending"
        m = ID_LINE.search(str(entry.get("details", "")))
        tid = m.group(1) if m and m.group(1) in ids else None
        if tid is None:
            cands = [c for c in by_title.get(str(entry.get("title", "")).strip().lower(), [])
                     if c not in found]
            tid = cands[0] if cands else None
        if tid is None:
            unmatched.append(str(entry.get("title", entry.get("id"))))
        else:
            found[tid] = st
    return found, unmatched


def _walk(entries: list[Any]) -> list[dict[str, Any]]:
    out = []
    for e in entries:
        if isinstance(e, dict):
            out.append(e)
            out += _walk(e.get("subtasks") or [])
    return out


def to_mermaid(tasks: list[dict[str, Any]], status: dict[str, str]) -> str:
    """A flowchart: an arrow from each dependency to the task that waits for it."""
    node = {t["id"]: f"t{i}" for i, t in enumerate(tasks)}
    lines = ["flowchart TD"]
    for t in tasks:
        label = (t["title"] or t["id"]).replace('"', "'")[:60]
        lines.append(f'  {node[t["id"]]}["{label}"]')
    for t in tasks:
        for d in t["dependencies"]:
            if d in node:
                lines.append(f"  {node[d]} --> {node[t['id']]}")
    for t in tasks:
        if t["parent"] in node:
            lines.append(f"  {node[t['id']]} -.-> {node[t['parent']]}")
    done = [node[t["id"]] for t in tasks if status.get(t["id"]) == "done"]
    if done:
        lines.append("  classDef done fill:#cfc,stroke:#393")
        lines.append(f"  class {','.join(done)} done")
    return "\n".join(lines) + "\n"


def to_markdown(document: str, tasks: list[dict[str, Any]], status: dict[str, str]) -> str:
    """A nested checklist, one line a task, with its ID, priority and dependencies."""
    depth: dict[str | None, int] = {None: -1}
    out = [f"# Tasks: {document}", ""]
    for t in tasks:
        d = depth.get(t["parent"], -1) + 1
        depth[t["id"]] = d
        box = "x" if status.get(t["id"]) == "done" else " "
        deps = f" (after: {', '.join(t['dependencies'])})" if t["dependencies"] else ""
        out.append(f"{'  ' * d}- [{box}] {t['title']} `{t['id']}` "
                   f"[{t['priority']}, c{t['complexity']}]{deps}")
    return "\n".join(out) + "\n"


def render(fmt: str, document: str, tasks: list[dict[str, Any]], status: dict[str, str],
           graph: dict[str, Any]) -> str:
    if fmt == "json":
        return json.dumps(to_json(document, tasks, status, graph), indent=2)
    if fmt == "taskmaster":
        return json.dumps(to_taskmaster(tasks, status), indent=2)
    if fmt == "mermaid":
        return to_mermaid(tasks, status)
    if fmt == "md":
        return to_markdown(document, tasks, status)
    raise ValueError(f"unknown format {fmt!r}: use json, taskmaster, mermaid or md")
