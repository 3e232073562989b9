"""The task graph: validation, topological order, parallel levels, critical path, next.

Edges are the tasks' dependencies plus "a parent finishes after its children"
(an epic is done when its features are). Cycles are found with Tarjan's
algorithm and reported by task ID and title; they are never broken silently:
tasks on a cycle get no place in the order and are never offered by `next`.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from typing import Any

from catalytic.plugins.prd.breathe import point

PRIORITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}
DONE = ("done", "cancelled")


def edges(tasks: list[dict[str, Any]]) -> dict[str, list[str]]:
    """task id → ids it waits for (dependencies and children)."""
    ids = {t["id"] for t in tasks}
    out: dict[str, list[str]] = {t["id"]: [d for d in t["dependencies"] if d in ids]
                                 for t in tasks}
    for t in tasks:
        point()
        p = t["parent"]
        if p in out and t["id"] not in out[p]:
            out[p].append(t["id"])
    return out


def cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components with more than one task (iterative Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in graph:
        point()
        if root in index:
            continue
        work: list[tuple[str, Iterable[str]]] = [(root, iter(graph[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            node, it = work[-1]
            advanced = False
            point()
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(graph[nxt])))
                    advanced = True
                    break
                if nxt in on:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                if len(comp) > 1:
                    found.append(sorted(comp))
    return found


def levels(graph: dict[str, list[str]], order: list[str]) -> list[list[str]]:
    """Sets of tasks that can run at once: level k waits only on levels below k."""
    level: dict[str, int] = {}
    for tid in order:
        point()
        level[tid] = 1 + max((level[d] for d in graph[tid] if d in level), default=-1)
    out: list[list[str]] = [[] for _ in range(1 + max(level.values(), default=-1))]
    for tid in order:
        out[level[tid]].append(tid)
    return out


def topo_order(graph: dict[str, list[str]], position: dict[str, int]) -> list[str]:
    """Kahn's algorithm, ties broken by document position; cycle members are left out."""
    waiting = {t: len(d) for t, d in graph.items()}
    users: dict[str, list[str]] = {t: [] for t in graph}
    for t, deps in graph.items():
        point()
        for d in deps:
            users[d].append(t)
    ready = [(position[t], t) for t, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    out = []
    while ready:
        _, t = heapq.heappop(ready)
        point()
        out.append(t)
        for u in users[t]:
            waiting[u] -= 1
            if waiting[u] == 0:
                heapq.heappush(ready, (position[u], u))
    return out


def critical_path(graph: dict[str, list[str]], order: list[str],
                  weight: dict[str, int]) -> tuple[list[str], int]:
    """The chain with the largest total complexity (the longest path in the DAG)."""
    best: dict[str, tuple[int, str | None]] = {}
    for tid in order:
        point()
        prev = max(((best[d][0], d) for d in graph[tid] if d in best), default=(0, None))
        best[tid] = (prev[0] + weight[tid], prev[1])
    if not best:
        return [], 0
    end = max(best, key=lambda t: best[t][0])
    total = best[end][0]
    path = []
    cur: str | None = end
    while cur is not None:
        path.append(cur)
        cur = best[cur][1]
    return path[::-1], total


def named_cycles(tasks: list[dict[str, Any]],
                 graph: dict[str, list[str]] | None = None) -> list[list[dict[str, str]]]:
    """Only the cycles, by ID and title (what `prd.decompose` reports)."""
    titles = {t["id"]: t["title"] for t in tasks}
    found = cycles(edges(tasks) if graph is None else graph)
    return [[{"id": c, "title": titles[c]} for c in comp] for comp in found]


def analyse(tasks: list[dict[str, Any]]) -> dict[str, Any]:
    """Everything `prd.graph` answers, in one pass."""
    graph = edges(tasks)
    position = {t["id"]: i for i, t in enumerate(tasks)}
    cyc = named_cycles(tasks, graph)
    order = topo_order(graph, position)
    path, total = critical_path(graph, order, {t["id"]: t["complexity"] for t in tasks})
    return {"valid": not cyc, "cycles": cyc,
            "order": order, "levels": levels(graph, order),
            "critical_path": path, "critical_path_complexity": total,
            "edges": sum(len(t["dependencies"]) for t in tasks)}


def next_tasks(tasks: list[dict[str, Any]], status: dict[str, str], limit: int = 1
               ) -> list[dict[str, Any]]:
    """Available tasks, Task Master's way: dependencies done, then priority, fewest deps, position.

    A task is available when it is pending or in progress, every dependency is
    done (or cancelled), and none of its children is still open (work on the
    leaves first). Tasks already in progress come before pending ones.
    """
    open_children: dict[str, int] = {}
    for t in tasks:
        point()
        if t["parent"] is not None and status.get(t["id"], "pending") not in DONE:
            open_children[t["parent"]] = open_children.get(t["parent"], 0) + 1
    graph_ids = {t["id"] for t in tasks}
    cyc = {c for comp in cycles(edges(tasks)) for c in comp}
    ready = []
    for pos, t in enumerate(tasks):
        point()
        st = status.get(t["id"], "pending")
        if st not in ("pending", "in-progress") or t["id"] in cyc:
            continue
        if open_children.get(t["id"]):
            continue
        if any(status.get(d, "pending") not in DONE for d in t["dependencies"] if d in graph_ids):
            continue
        ready.append((st != "in-progress", PRIORITY_RANK.get(t["priority"], 2),
                      len(t["dependencies"]), pos, t))
    # the `limit` best without sorting them all: a sort of 100,000 tuples is one long C
    # call that holds the GIL (and so the daemon's loop) for tens of ms
    return [r[4] for r in heapq.nsmallest(limit, ready, key=lambda r: r[:4])]
