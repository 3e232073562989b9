"""Changes found by identity, and cycles re-checked by change, equal a full recomputation."""

from __future__ import annotations

import random
from typing import Any

from catalytic.plugins.prd.diff import Changes
from catalytic.plugins.prd.graph import cycles, edges
from catalytic.plugins.prd.revalidate import GraphIndex


def task(tid: str, parent: str | None, deps: list[str], title: str = "") -> dict[str, Any]:
    return {"id": tid, "parent": parent, "dependencies": deps, "title": title or tid}


def components(found: list[list[str]]) -> set[frozenset[str]]:
    return {frozenset(c) for c in found}


def edit(rng: random.Random, tasks: list[dict[str, Any]], serial: int) -> list[dict[str, Any]]:
    """A new list: some tasks replaced (new dict) with other dependencies, added or removed."""
    out = list(tasks)
    ids = [t["id"] for t in out]
    for _ in range(rng.randint(1, 3)):
        roll = rng.random()
        k = rng.randrange(len(out))
        if roll < 0.6:
            deps = rng.sample(ids, rng.randint(0, 2))
            out[k] = {**out[k], "dependencies": [d for d in deps if d != out[k]["id"]]}
        elif roll < 0.8:
            parent = out[k]["id"]
            out.insert(k + 1, task(f"n{serial}-{k}", parent, rng.sample(ids, 1)))
        elif len(out) > 5 and not any(t["parent"] == out[k]["id"] for t in out):
            gone = out.pop(k)["id"]
            out = [t if gone not in t["dependencies"] else
                   {**t, "dependencies": [d for d in t["dependencies"] if d != gone]}
                   for t in out]
            ids = [t["id"] for t in out]
    return out


def test_graph_index_matches_tarjan_over_random_edits() -> None:
    rng = random.Random(7)
    for trial in range(40):
        tasks = [task("root", None, [])]
        for i in range(30):
            parent = rng.choice(tasks)["id"]
            tasks.append(task(f"t{i}", parent, []))
        index = GraphIndex(tasks)
        for step in range(25):
            new = edit(rng, tasks, trial * 100 + step)
            changes = Changes(tasks, new)
            index.update(changes, new)
            assert components(index.cycles) == components(cycles(edges(new))), (trial, step)
            assert set(index.by_id) == {t["id"] for t in new}
            tasks = new


def test_changes_look_only_at_the_edited_region() -> None:
    old = [task(f"t{i}", None, []) for i in range(1000)]
    same = list(old)
    same[500] = {**old[500], "title": "renamed"}
    ch = Changes(old, same)
    assert ch.in_place and [t["id"] for t in ch.changed] == ["t500"] and len(ch.rows) == 1
    grown = [*old[:10], task("new", None, []), *old[10:]]
    ch = Changes(old, grown)
    assert [t["id"] for t in ch.added] == ["new"] and not ch.changed and not ch.removed
    assert (ch.lo, ch.hi_old, ch.shift_by, len(ch.rows)) == (10, 10, 1, 1)
    shrunk = [*old[:10], *old[12:]]
    ch = Changes(old, shrunk)
    assert ch.removed == ["t10", "t11"] and ch.shift_by == -2 and ch.rows == []
    assert not Changes(old, list(old))
