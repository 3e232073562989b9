"""The task graph: validation, topological order, parallel levels, critical path, next.

Edges are the tasks' dependencies plus "a parent finishes after its children"
(an epic is done when its features are). Cycles are found with Tarjan's
algorithm and reported by task ID and title; they are never broken silently:
tasks on a cycle get no place in the order and are never offered by `next`.

Every pass over the tasks calls `breathe.point()` (per task, or per slice of
`breathe.slices` where the work per task is a few operations): a document of
100,000 tasks is read in a thread, and a pass that never offers the GIL would
hold the daemon's loop for a whole switch interval at a time.
"""

from __future__ import annotations

import heapq
from collections.abc import Container, Iterable
from typing import Any

from catalytic.plugins.prd.breathe import drain, point, slices

PRIORITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}
DONE = ("done", "cancelled")


def edges(tasks: list[dict[str, Any]]) -> dict[str, list[str]]:
    """task id → ids it waits for (dependencies and children)."""
    ids: set[str] = set()
    for part in slices(tasks):
        ids.update([t["id"] for t in part])
    out: dict[str, list[str]] = {}
    for t in tasks:
        point()
        out[t["id"]] = [d for d in t["dependencies"] if d in ids]
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
    drain(index)
    drain(low)
    return found


def levels(graph: dict[str, list[str]], order: list[str]) -> list[list[str]]:
    """Sets of tasks that can run at once: level k waits only on levels below k."""
    level: dict[str, int] = {}
    top = -1
    for tid in order:
        point()
        k = level[tid] = 1 + max((level[d] for d in graph[tid] if d in level), default=-1)
        top = max(top, k)
    out: list[list[str]] = [[] for _ in range(1 + top)]
    for part in slices(order):
        for tid in part:
            out[level[tid]].append(tid)
    drain(level)
    return out


def topo_order(graph: dict[str, list[str]], position: dict[str, int]) -> list[str]:
    """Kahn's algorithm, ties broken by document position; cycle members are left out."""
    waiting: dict[str, int] = {}
    users: dict[str, list[str]] = {}
    for t, deps in graph.items():
        point()
        waiting[t] = len(deps)
        users[t] = []
    for t, deps in graph.items():
        point()
        for d in deps:
            users[d].append(t)
    ready: list[tuple[int, str]] = []
    in_order = True
    for t, n in waiting.items():
        point()
        if n == 0:
            in_order = in_order and (not ready or ready[-1][0] < position[t])
            ready.append((position[t], t))
    if not in_order:  # a list sorted by position is a heap already (the usual case: graph
        heapq.heapify(ready)  # in document order); heapify is one long C call
    out = []
    while ready:
        _, t = heapq.heappop(ready)
        point()
        out.append(t)
        for u in users[t]:
            waiting[u] -= 1
            if waiting[u] == 0:
                heapq.heappush(ready, (position[u], u))
    drain(waiting)
    drain(users)
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
    end, total = order[0], best[order[0]][0]
    for part in slices(order):
        for tid in part:
            if best[tid][0] > total:
                end, total = tid, best[tid][0]
    path = []
    cur: str | None = end
    while cur is not None:
        path.append(cur)
        cur = best[cur][1]
    drain(best)
    return path[::-1], total


def named_cycles(tasks: list[dict[str, Any]],
                 graph: dict[str, list[str]] | None = None) -> list[list[dict[str, str]]]:
    """Only the cycles, by ID and title (what `prd.decompose` reports)."""
    found = cycles(edges(tasks) if graph is None else graph)
    if not found:
        return []
    titles: dict[str, str] = {}
    for part in slices(tasks):
        titles.update([(t["id"], t["title"]) for t in part])
    return [[{"id": c, "title": titles[c]} for c in comp] for comp in found]


def analyse(tasks: list[dict[str, Any]]) -> dict[str, Any]:
    """Everything `prd.graph` answers, in one pass."""
    graph = edges(tasks)
    position: dict[str, int] = {}
    weight: dict[str, int] = {}
    n_edges = 0
    for i, t in enumerate(tasks):
        point()
        position[t["id"]] = i
        weight[t["id"]] = t["complexity"]
        n_edges += len(t["dependencies"])
    cyc = named_cycles(tasks, graph)
    order = topo_order(graph, position)
    path, total = critical_path(graph, order, weight)
    out = {"valid": not cyc, "cycles": cyc,
           "order": order, "levels": levels(graph, order),
           "critical_path": path, "critical_path_complexity": total,
           "edges": n_edges}
    for working in (graph, position, weight):
        drain(working)
    return out


def next_tasks(tasks: list[dict[str, Any]], status: dict[str, str], limit: int = 1, *,
               known_cycles: list[list[str]] | None = None,
               ids: Container[str] | None = None) -> list[dict[str, Any]]:
    """Available tasks, Task Master's way: dependencies done, then priority, fewest deps, position.

    A task is available when it is pending or in progress, every dependency is
    done (or cancelled), and none of its children is still open (work on the
    leaves first). Tasks already in progress come before pending ones. The
    cycles and the IDs of `tasks`, when the caller keeps them (`revalidate.GraphIndex`),
    spare the passes that find them (and the growing of 100,000-entry tables, each
    resize one long C call).
    """
    open_children: dict[str, int] = {}
    seen: set[str] = set()
    for t in tasks:
        point()
        if ids is None:
            seen.add(t["id"])
        if t["parent"] is not None and status.get(t["id"], "pending") not in DONE:
            open_children[t["parent"]] = open_children.get(t["parent"], 0) + 1
    graph_ids = seen if ids is None else ids
    if known_cycles is None:
        graph = edges(tasks)
        found = cycles(graph)
        drain(graph)
    else:
        found = known_cycles
    cyc = {c for comp in found for c in comp}
    # the `limit` best kept in a bounded heap as they are found: sorting (or
    # `heapq.nsmallest` over) 100,000 candidates is one long pass that never breathes
    best: list[tuple[tuple[int, int, int, int], dict[str, Any]]] = []
    for pos, t in enumerate(tasks):
        point()
        st = status.get(t["id"], "pending")
        if st not in ("pending", "in-progress") or t["id"] in cyc:
            continue
        if open_children.get(t["id"]):
            continue
        if any(status.get(d, "pending") not in DONE for d in t["dependencies"] if d in graph_ids):
            continue
        # negated, so the heap's smallest is the worst kept; `pos` is unique: no tie
        key = (-(st != "in-progress"), -PRIORITY_RANK.get(t["priority"], 2),
               -len(t["dependencies"]), -pos)
        if len(best) < limit:
            heapq.heappush(best, (key, t))
        elif key > best[0][0]:
            heapq.heapreplace(best, (key, t))
    best.sort(reverse=True)
    drain(open_children)
    return [t for _, t in best]
