"""Cycle check after an edit, in proportion to the edit.

The graph's edges (see `graph.edges`) are each task's dependencies and "a
parent waits for its children". An edit can only change the edges of the tasks
it added, changed or removed (the assembler re-resolves every reference and
hands back a new dict for any task whose dependencies moved), so:

- no edge gone from an old cycle and no new edge: the cycles are the old ones;
- a new edge u → v closes a cycle only if u is reachable from v, found by a
  search from v (usually tiny; at worst the part of the graph below v);
- otherwise (a cycle may have broken, or a new one formed) Tarjan runs again.

`GraphIndex` keeps the ID and children lookups this needs, updated by change.
"""

from __future__ import annotations

from typing import Any

from catalytic.plugins.prd.diff import Changes
from catalytic.plugins.prd.graph import cycles, edges


class GraphIndex:
    """Task ID → task, parent → child IDs, and the cycles (as ID lists) of one document."""

    def __init__(self, tasks: list[dict[str, Any]]) -> None:
        self.by_id: dict[str, dict[str, Any]] = {t["id"]: t for t in tasks}
        self.children: dict[str, set[str]] = {}
        for t in tasks:
            if t["parent"] is not None:
                self.children.setdefault(t["parent"], set()).add(t["id"])
        self.cycles: list[list[str]] = cycles(edges(tasks))

    def named_cycles(self) -> list[list[dict[str, str]]]:
        return [[{"id": c, "title": self.by_id[c]["title"]} for c in comp]
                for comp in self.cycles]

    def update(self, changes: Changes, tasks: list[dict[str, Any]]) -> None:
        """Apply `changes` (which turned the indexed tasks into `tasks`) and re-check cycles."""
        added_edges: list[tuple[str, str]] = []
        gone_edges: list[tuple[str, str]] = []
        for tid in changes.removed:
            old = self.by_id.pop(tid, None)
            if old is None:
                continue
            gone_edges += [(tid, d) for d in old["dependencies"]]
            if old["parent"] is not None:
                self.children.get(old["parent"], set()).discard(tid)
                gone_edges.append((old["parent"], tid))
            for child in self.children.pop(tid, ()):
                gone_edges.append((tid, child))
        for t in (*changes.changed, *changes.added):
            tid = t["id"]
            old = self.by_id.get(tid)
            self.by_id[tid] = t
            before = set(old["dependencies"]) if old is not None else set()
            after = set(t["dependencies"])
            added_edges += [(tid, d) for d in after - before]
            gone_edges += [(tid, d) for d in before - after]
            old_parent = old["parent"] if old is not None else None
            if old is None or old_parent != t["parent"]:
                if old_parent is not None:
                    self.children.get(old_parent, set()).discard(tid)
                    gone_edges.append((old_parent, tid))
                if t["parent"] is not None:
                    self.children.setdefault(t["parent"], set()).add(tid)
                    added_edges.append((t["parent"], tid))
        on_cycle = {c: k for k, comp in enumerate(self.cycles) for c in comp}
        broken = any(a in on_cycle and on_cycle.get(b) == on_cycle[a] for a, b in gone_edges)
        broken = broken or any(tid in on_cycle for tid in changes.removed)
        closed = any(self._reaches(v, u) for u, v in added_edges
                     if u in self.by_id and v in self.by_id)
        if broken or closed:
            self.cycles = cycles(edges(tasks))

    def _reaches(self, start: str, goal: str) -> bool:
        """Whether `goal` can be reached from `start` along the graph's edges."""
        seen = {start}
        todo = [start]
        while todo:
            node = todo.pop()
            if node == goal:
                return True
            task = self.by_id.get(node)
            nxt = [*(task["dependencies"] if task is not None else ()),
                   *self.children.get(node, ())]
            for n in nxt:
                if n not in seen:
                    seen.add(n)
                    todo.append(n)
        return False
