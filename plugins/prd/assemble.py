"""Place each section's local tasks into the document: absolute IDs, lines, inheritance, links.

IDs are the path of heading slugs (numbered only among same-slug siblings) plus
the task's local ID. Priority is inherited from the nearest ancestor that says
one. References are resolved here, across sections, and every one that cannot
be resolved is reported, never dropped silently.
"""

from __future__ import annotations

from typing import Any

from catalytic.plugins.prd.model import SectionResult
from catalytic.plugins.prd.split import Section


def assemble(sections: list[Section], results: list[SectionResult],
             lines: list[str]) -> tuple[list[dict[str, Any]], dict[str, list[Any]]]:
    """All tasks in document order, and the problems found (missing refs, self deps)."""
    n = len(sections)
    path = [""] * n
    owner: list[str | None] = [None] * n
    """The task ID that stands for each section (its heading task or nearest ancestor's)."""
    info = [False] * n
    depth = [0] * n
    title_sec = _document_title(sections, results)
    own = _own_slugs(sections, results)
    subtree_end = _subtree_ends(sections, lines)
    tasks: list[dict[str, Any]] = []
    raw: list[tuple[dict[str, Any], tuple[str, ...], tuple[str, ...], str]] = []
    by_id: dict[str, str] = {}
    by_name: dict[str, str] = {}
    prio: dict[str | None, str] = {None: "medium"}
    for sec in sections:
        i = sec.index
        res = results[i]
        p = sec.parent
        if i and p >= 0:
            info[i] = info[p] or res.summary.info
            if i == title_sec:
                path[i], owner[i], depth[i] = "", None, 0
            else:
                _place(sections, i, own, path, owner, depth)
        if info[i]:
            continue
        base = path[i]
        for t in res.tasks:
            if t.lid == "":
                if i == title_sec:
                    continue
                tid = base
                parent = owner[i]
                first, last = sec.start + 1, subtree_end[i] + 1
                kind = t.kind or ("epic" if depth[i] <= 1 else "feature")
                owner[i] = tid
                by_name.setdefault("a:" + res.summary.anchor, tid)
                by_name.setdefault("n:" + res.summary.slug, tid)
            else:
                tid = f"{base}/{t.lid}" if base else t.lid
                parent = owner[i] if t.parent == "" else (
                    f"{base}/{t.parent}" if base else t.parent)
                first, last = sec.start + t.lines[0] + 1, sec.start + t.lines[1] + 1
                kind = t.kind
                by_name.setdefault("n:" + t.name, tid)
            priority = t.priority or prio.get(parent, "medium")
            prio[tid] = priority
            for rid in t.ids:
                by_id.setdefault(rid, tid)
            task = {"id": tid, "title": t.title, "description": t.description,
                    "parent": parent, "lines": [first, last], "dependencies": [],
                    "priority": priority, "kind": kind, "complexity": t.complexity,
                    "complexity_reasons": list(t.reasons),
                    "acceptance_criteria": list(t.acceptance), "test_strategy": t.test,
                    "requirement_ids": list(t.ids), "references": [],
                    "checked": t.checked, "content_hash": t.digest}
            tasks.append(task)
            raw.append((task, t.deps, t.mentions, base))
    problems: dict[str, list[Any]] = {"missing": [], "self": [], "duplicate_ids": []}
    for task, deps, mentions, base in raw:
        for k, ref in enumerate(deps + mentions):
            target = _resolve(ref, base, by_id, by_name)
            is_dep = k < len(deps)
            if target is None:
                if is_dep:
                    problems["missing"].append({"task": task["id"], "ref": ref.split(":", 1)[1]})
                continue
            bucket = task["dependencies"] if is_dep else task["references"]
            if target == task["id"]:
                if is_dep:
                    problems["self"].append({"task": task["id"]})
                continue
            if target not in bucket:
                bucket.append(target)
    _child_order(sections, results, owner, tasks)
    return tasks, problems


def _own_slugs(sections: list[Section], results: list[SectionResult]) -> list[str]:
    """Each section's slug, numbered only among siblings with the same slug."""
    out = [""] * len(sections)
    for sec in sections:
        seen: dict[str, int] = {}
        for c in sec.children:
            slug = results[c].summary.slug
            seen[slug] = seen.get(slug, 0) + 1
            out[c] = slug if seen[slug] == 1 else f"{slug}-{seen[slug]}"
    return out


def _place(sections: list[Section], i: int, own: list[str], path: list[str],
           owner: list[str | None], depth: list[int]) -> None:
    """Path of heading slugs from the top."""
    p = sections[i].parent
    path[i] = f"{path[p]}/{own[i]}" if path[p] else own[i]
    owner[i] = owner[p]
    depth[i] = depth[p] + 1


def _resolve(ref: str, base: str, by_id: dict[str, str], by_name: dict[str, str]) -> str | None:
    kind, _, value = ref.partition(":")
    if kind == "local":
        return f"{base}/{value}" if base else value
    if kind == "id":
        return by_id.get(value) or by_id.get(value.replace("-", ""))
    if kind == "anchor":
        return by_name.get("a:" + value)
    if kind == "name":
        return by_name.get("n:" + value)
    return None


def _child_order(sections: list[Section], results: list[SectionResult],
                 owner: list[str | None], tasks: list[dict[str, Any]]) -> None:
    """Sibling sections the document orders (phases, dependency chains) depend on each other."""
    index = {t["id"]: t for t in tasks}
    for sec in sections:
        for child, before in results[sec.index].child_deps:
            a = owner[sections[sec.children[child]].index]
            b = owner[sections[sec.children[before]].index]
            if a and b and a != b and a in index and b not in index[a]["dependencies"]:
                index[a]["dependencies"].append(b)


def _document_title(sections: list[Section], results: list[SectionResult]) -> int:
    """The index of a lone top heading that only titles the document, or -1."""
    root = sections[0]
    if len(root.children) == 1 and not results[0].tasks:
        top = sections[root.children[0]]
        if top.level == 1 and top.children:
            return top.index
    return -1


def _subtree_ends(sections: list[Section], lines: list[str]) -> list[int]:
    """0-based last non-blank line of each section's whole subtree."""
    end = [s.end for s in sections]
    for sec in reversed(sections):
        if sec.children:
            end[sec.index] = max(end[sec.index], end[sec.children[-1]])
    out = []
    for sec in sections:
        last = end[sec.index] - 1
        while last > sec.start and not lines[last].strip():
            last -= 1
        out.append(last)
    return out
